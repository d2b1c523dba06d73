"""MER splits: spectrogram excerpts with emotion (and mid-level) targets, split 80/10/10 with a seed and
standardised with the training split's global mean and standard deviation (as the reference code does).

Targets are divided by 10, as in the reference code: emotions (1-9) and mid-level ratings (1-10) both
land in [0.1, 1]. Labels hold the 8 emotions followed by the 7 mid-level targets.
"""

from __future__ import annotations

import numpy as np

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def mer_splits(
    spectrograms: np.ndarray,
    emotions: np.ndarray,
    mid_level: np.ndarray,
    *,
    seed: int,
    extras: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, float]]:
    """train/val/test dicts of images (N, 1, T, F) float32 standardised, labels (N, 15) float32 and any
    per-clip extras; and the standardisation statistics."""
    n = len(spectrograms)
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_val = int(round(SPLIT_FRACTIONS[0] * n)), int(round(SPLIT_FRACTIONS[1] * n))
    parts = {"train": order[:n_train], "val": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
    train = spectrograms[parts["train"]].astype(np.float64)
    mean, std = float(train.mean()), float(train.std())
    labels = np.concatenate([emotions, mid_level], axis=1).astype(np.float32) / 10.0
    splits = {}
    for name, idx in parts.items():
        x = ((spectrograms[idx] - mean) / std).astype(np.float32)[:, None]
        splits[name] = {"images": x, "labels": labels[idx], **{k: v[idx] for k, v in (extras or {}).items()}}
    return splits, {"mean": mean, "std": std}
