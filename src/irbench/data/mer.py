"""MER splits: spectrogram excerpts with emotion (and mid-level) targets, split 80/10/10 with a seed and
standardised with the training split's global mean and standard deviation (as the reference code does).

Targets are divided by 10, as in the reference code: emotions (1-9) and mid-level ratings (1-10) both
land in [0.1, 1]. Labels hold the 8 emotions followed by the 7 mid-level targets.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from irbench.audio.datasets import (
    is_soundtracks,
    load_midlevel,
    load_soundtracks,
    snippet_audio,
    soundtracks_midlevel,
)
from irbench.audio.features import SLICE_FRAMES, extract_features

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def mer_splits(
    spectrograms: np.ndarray,
    emotions: np.ndarray,
    mid_level: np.ndarray,
    *,
    seed: int,
    extras: dict[str, np.ndarray] | None = None,
    n_train_only: int = 0,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """train/val/test dicts of images (N, 1, T, F) float32 standardised, labels (N, 15) float32 and any
    per-clip extras; and the standardisation statistics.

    The last `n_train_only` rows (snippets with mid-level ratings only, their emotions NaN) always go to
    the training split; the others are split 80/10/10."""
    n = len(spectrograms) - n_train_only
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = int(round(SPLIT_FRACTIONS[0] * n)), int(round(SPLIT_FRACTIONS[1] * n))
    parts = {
        "train": np.concatenate([order[:n_train], np.arange(n, n + n_train_only)]),
        "val": order[n_train : n_train + n_val],
        "test": order[n_train + n_val :],
    }
    train = spectrograms[parts["train"]].astype(np.float64)
    mean, std = float(train.mean()), float(train.std())
    labels = np.concatenate([emotions, mid_level], axis=1).astype(np.float32) / 10.0
    splits = {}
    for name, idx in parts.items():
        x = ((spectrograms[idx] - mean) / std).astype(np.float32)[:, None]
        splits[name] = {"images": x, "labels": labels[idx], **{k: v[idx] for k, v in (extras or {}).items()}}
    return splits, {"mean": mean, "std": std}


def soundtracks_splits(
    spec: Mapping[str, Any], workers: int = 1
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Splits of Soundtracks Set 1 (emotions) with mid-level targets from the Mid-level dataset.

    `midlevel_targets: soundtracks` pairs each clip with its own mid-level annotation (the reference
    code); `all` adds every other Mid-level snippet to the training split with its ratings and no
    emotions (the paper's text), so the bottleneck learns from all of them."""
    st = load_soundtracks(spec["root"], spec.get("audio_dir"))
    ml_root = Path(spec["midlevel_root"])
    annotations = spec.get("midlevel_annotations", "annotations.csv")
    ml = load_midlevel(ml_root, annotations, with_audio=False)
    mid = soundtracks_midlevel(st, ml, ml_root / annotations)
    emotions, paths = st["emotions"], list(st["audio"])
    n_extra = 0
    if spec["midlevel_targets"] == "all":
        extra = ~is_soundtracks(ml["source"])  # the Soundtracks snippets are the clips themselves
        n_extra = int(extra.sum())
        paths += snippet_audio(ml_root, [ml["ids"][i] for i in np.flatnonzero(extra)], ml_root / annotations)
        emotions = np.concatenate([emotions, np.full((n_extra, emotions.shape[1]), np.nan)])
        mid = np.concatenate([mid, ml["mid_level"][extra]])
    n_frames = spec.get("n_frames", SLICE_FRAMES)
    spectrograms = extract_features(paths, seed=spec["seed"], n_frames=n_frames, workers=workers)
    splits, stats = mer_splits(spectrograms, emotions, mid, seed=spec["seed"], n_train_only=n_extra)
    return splits, {"n_midlevel_only": n_extra, **stats}
