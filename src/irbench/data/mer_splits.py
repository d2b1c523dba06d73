"""MER splits, shared by the two MER dataset kinds (irbench.datasets.soundtracks and .synthetic_mer):
spectrogram excerpts with emotion (and mid-level) targets, split 80/10/10 as the reference code splits
(`torch.utils.data.random_split` of the clip indices with a seeded generator: seed 42 gives the reference's
own 288/36/36 split of Soundtracks Set 1), and standardised with the training split's global
mean and standard deviation. The reference standardises with statistics over all clips, test clips
included; irbench keeps the test clips out of them.

Targets are divided by 10, as in the reference code: emotions (1-9) and mid-level ratings (1-10) both
land in [0.1, 1]. Labels hold the 8 emotions followed by the 7 mid-level targets.
"""

from __future__ import annotations

import numpy as np

SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def reference_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test indices of n clips as the reference code draws them:
    `random_split(range(n), [0.8, 0.1, 0.1], generator=torch.Generator().manual_seed(seed))`."""
    import torch
    from torch.utils.data import random_split

    parts = random_split(range(n), list(SPLIT_FRACTIONS), generator=torch.Generator().manual_seed(seed))
    return tuple(np.asarray(list(p), dtype=np.int64) for p in parts)


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
    train_idx, val_idx, test_idx = reference_split(n, seed)
    parts = {
        "train": np.concatenate([train_idx, np.arange(n, n + n_train_only)]).astype(np.int64),
        "val": val_idx,
        "test": test_idx,
    }
    train = spectrograms[parts["train"]].astype(np.float64)
    mean, std = float(train.mean()), float(train.std())
    labels = np.concatenate([emotions, mid_level], axis=1).astype(np.float32) / 10.0
    splits = {}
    for name, idx in parts.items():
        x = ((spectrograms[idx] - mean) / std).astype(np.float32)[:, None]
        splits[name] = {"images": x, "labels": labels[idx], **{k: v[idx] for k, v in (extras or {}).items()}}
    return splits, {"mean": mean, "std": std}
