"""Prepared datasets on disk: one torch file per dataset with `train`/`test` splits and `meta`.

Images are stored as uint8 (N, C, H, W) and moved to the device once as float in [0, 1]; augmentation is
done in batches on the device.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from irbench.errors import IrbenchError
from irbench.io import load_torch, save_torch

REQUIRED_SPLIT_KEYS = ("images", "labels")


def save_dataset(
    splits: dict[str, dict[str, np.ndarray]], meta: dict[str, Any], path: str | os.PathLike
) -> None:
    """Save splits of NumPy arrays as tensors with their metadata, atomically."""
    payload = {
        name: {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in split.items()}
        for name, split in splits.items()
    }
    payload["meta"] = dict(meta)
    save_torch(payload, path)


@dataclass
class Split:
    """A split on a device: float images in [0, 1], integer labels, and any extra arrays (masks, cues)."""

    x: Tensor
    y: Tensor
    extras: dict[str, Tensor]
    meta: dict[str, Any] = field(default_factory=dict)  # the dataset's metadata (n_classes, ...)

    def __len__(self) -> int:
        return self.y.shape[0]

    def subset(self, idx: Tensor) -> Split:
        """The rows `idx` of this split (extras included)."""
        return Split(self.x[idx], self.y[idx], {k: v[idx] for k, v in self.extras.items()}, self.meta)

    def to(self, device: torch.device | str) -> Split:
        """This split on `device`."""
        return Split(
            self.x.to(device), self.y.to(device), {k: v.to(device) for k, v in self.extras.items()}, self.meta
        )


def to_unit(x: Tensor) -> Tensor:
    """Images as float in [0, 1]: uint8 is divided by 255, float passes through."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def channel_stats(x: Tensor, chunk: int = 4096) -> tuple[Tensor, Tensor]:
    """Per-channel mean and std of images (uint8 or float), in chunks so uint8 data never becomes float
    all at once."""
    c = x.shape[1]
    total = torch.zeros(c, dtype=torch.float64, device=x.device)
    squares = torch.zeros_like(total)
    for i in range(0, len(x), chunk):
        part = to_unit(x[i : i + chunk]).double()
        total += part.sum((0, 2, 3))
        squares += part.pow(2).sum((0, 2, 3))
    n = x.numel() // c
    mean = total / n
    var = (squares - n * mean**2) / (n - 1)
    return mean.float(), var.clamp_min(0).sqrt().float()


STANDARD_SPLITS = ("train", "val", "test")


def extra_splits(path: str | os.PathLike) -> list[str]:
    """The splits of a prepared dataset file besides train/val/test (e.g. a cue-independent test split)."""
    payload = load_torch(path)
    return [k for k in payload if k != "meta" and k not in STANDARD_SPLITS]


def has_split(path: str | os.PathLike, split: str) -> bool:
    """Whether a prepared dataset file holds `split`."""
    payload = load_torch(path)
    return isinstance(payload, dict) and split in payload


def load_split(
    path: str | os.PathLike, split: str, device: torch.device | str = "cpu", *, raw: bool = False
) -> Split:
    """Load one split of a prepared dataset file, with a one-line error if it lacks what is expected.

    Images come as float in [0, 1], or with `raw` as the stored uint8 (4x less device memory: training
    keeps CIFAR- and ImageNet-150-size data on the device this way and converts each batch)."""
    payload = load_torch(path)
    if not isinstance(payload, dict) or split not in payload:
        raise IrbenchError(f"{path}: expected a prepared dataset with a '{split}' split")
    data = payload[split]
    missing = [k for k in REQUIRED_SPLIT_KEYS if k not in data]
    if missing:
        raise IrbenchError(f"{path}: split '{split}' lacks {', '.join(missing)}")
    x = data["images"].to(device=device)
    if not raw:
        x = to_unit(x)
    labels = data["labels"]  # class indices, or float regression targets
    y = labels.to(device=device, dtype=labels.dtype if labels.is_floating_point() else torch.long)
    extras = {k: v.to(device) for k, v in data.items() if k not in REQUIRED_SPLIT_KEYS}
    return Split(x, y, extras, dict(payload.get("meta", {})))
