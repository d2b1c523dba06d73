"""Spectrogram excerpts of many audio files: one fixed-length slice per clip, computed on all cores.

Each clip's slice start is drawn from a generator seeded with (seed, clip index), so the excerpts do not
depend on the number of workers or the order in which they finish. Clips shorter than the slice are
filled by repeating their spectrogram (the reference's padding). Files are peak-normalised and trimmed as
the reference's madmom processor does (SpectrogramSpec.normalise).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import numpy as np

from irbench.audio.decode import MIN_SECONDS, load_audio
from irbench.audio.spectrogram import DEFAULT_SPEC, SpectrogramSpec, log_filtered_spectrogram, madmom_signal

SLICE_FRAMES = 313  # 10 s at 31.3 frames/s


def excerpt(spectrogram: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """A random window of n_frames rows; a shorter spectrogram is repeated to fill them, as the reference
    pads short clips."""
    if len(spectrogram) <= n_frames:
        reps = -(-n_frames // len(spectrogram))
        return np.tile(spectrogram, (reps, 1))[:n_frames]
    start = int(rng.integers(0, len(spectrogram) - n_frames + 1))
    return spectrogram[start : start + n_frames]


def clip_features(
    path: str, index: int, seed: int, n_frames: int, spec: dict, min_seconds: float = MIN_SECONDS
) -> np.ndarray:
    """The (n_frames, n_bands) log-filtered spectrogram excerpt of one file (a worker's task)."""
    s = SpectrogramSpec(**spec)
    signal = load_audio(path, s.sample_rate, min_seconds)
    full = log_filtered_spectrogram(madmom_signal(signal) if s.normalise else signal, s)
    return excerpt(full, n_frames, np.random.default_rng([seed, index]))


def extract_features(
    paths: Sequence[str | os.PathLike],
    *,
    seed: int = 0,
    n_frames: int = SLICE_FRAMES,
    spec: SpectrogramSpec = DEFAULT_SPEC,
    workers: int | None = None,
    min_seconds: float = MIN_SECONDS,
) -> np.ndarray:
    """(len(paths), n_frames, n_bands) float32 excerpts; `workers` processes (default: all cores); a clip
    shorter than `min_seconds` is an error naming it."""
    workers = workers or os.cpu_count() or 1
    args = [(str(p), i, seed, n_frames, asdict(spec), min_seconds) for i, p in enumerate(paths)]
    if workers == 1 or len(paths) < 2:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # as in the workers: BLAS results depend on the thread count
            return np.stack([clip_features(*a) for a in args])
    with ProcessPoolExecutor(workers, initializer=_one_thread) as pool:
        return np.stack(list(pool.map(clip_features, *zip(*args, strict=True), chunksize=1)))


def _one_thread() -> None:
    """Worker initialiser: one BLAS/OpenMP thread per process, so processes do not oversubscribe cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
