"""Decoding audio files to 22.05 kHz mono float32, with one-line errors naming the file.

soundfile reads wav, flac, ogg and (libsndfile >= 1.1) mp3; librosa (audioread) is the fallback for
anything else. Any sample rate and channel count: channels are averaged, then resampled with soxr.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from irbench.errors import IrbenchError

SILENCE_RMS = 1e-5  # below this RMS a clip carries nothing to rate
MIN_SECONDS = 1.0  # a shorter clip is a truncated or wrong file, not music to rate


def _read(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        return data.mean(axis=1), int(rate)
    except Exception as first:  # not a format libsndfile knows: try librosa/audioread
        try:
            import warnings

            import librosa

            with warnings.catch_warnings():  # librosa warns that it falls back to audioread
                warnings.simplefilter("ignore")
                data, rate = librosa.load(str(path), sr=None, mono=True)
            return data.astype(np.float32), int(rate)
        except Exception:
            raise IrbenchError(
                f"{path}: not a recognised audio format (neither libsndfile nor audioread can decode it)"
            ) from first


def load_audio(
    path: str | os.PathLike, sample_rate: int = 22050, min_seconds: float = MIN_SECONDS
) -> np.ndarray:
    """The file's audio as mono float32 at `sample_rate`; an error naming the file if it is missing,
    empty, not audio, shorter than `min_seconds` (a truncated file) or silent."""
    path = Path(path)
    if not path.is_file():
        raise IrbenchError(f"{path}: audio file not found")
    if path.stat().st_size == 0:
        raise IrbenchError(f"{path}: audio file is empty (0 bytes)")
    signal, rate = _read(path)
    if signal.size == 0:
        raise IrbenchError(f"{path}: audio file holds no samples")
    if signal.size < min_seconds * rate:
        raise IrbenchError(
            f"{path}: audio is {signal.size / rate:.2f} s long, shorter than the minimum {min_seconds:g} s "
            "(a truncated file?)"
        )
    if not np.isfinite(signal).all():
        raise IrbenchError(f"{path}: audio holds non-finite samples")
    if float(np.sqrt(np.mean(signal.astype(np.float64) ** 2))) < SILENCE_RMS:
        raise IrbenchError(f"{path}: audio is silent (RMS below {SILENCE_RMS:g})")
    if rate != sample_rate:
        import librosa

        signal = librosa.resample(signal, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(signal, dtype=np.float32)
