"""Batched data augmentation on the device (no per-sample Python loops)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def random_crop(x: Tensor, pad: int, generator: torch.Generator) -> Tensor:
    """Zero-pad by `pad` and take a random crop of the original size per image: two gathers (rows, then
    columns), any dtype (crop uint8 before converting: 4x less memory traffic)."""
    n, c, h, w = x.shape
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (oy[:, None] + torch.arange(h, device=x.device)).view(n, 1, h, 1).expand(n, c, h, w + 2 * pad)
    cols = (ox[:, None] + torch.arange(w, device=x.device)).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)


def random_flip(x: Tensor, generator: torch.Generator) -> Tensor:
    """Flip each image horizontally with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def random_excerpt(x: Tensor, length: int, generator: torch.Generator) -> Tensor:
    """A random window of `length` frames along the time axis (dim 2) per clip: one gather. A network that
    pools over time (the MER CNN) trains on the excerpt and is evaluated on the whole clip."""
    n, c, t, f = x.shape
    length = min(length, t)
    start = torch.randint(0, t - length + 1, (n,), generator=generator).to(x.device)
    rows = (start[:, None] + torch.arange(length, device=x.device)).view(n, 1, length, 1)
    return x.gather(2, rows.expand(n, c, length, f))


def augment(x: Tensor, ops: list[str], generator: torch.Generator) -> Tensor:
    """Apply the configured augmentations (`crop`: pad-4 random crop, `flip`: horizontal flip,
    `half_excerpt`: a random excerpt of half of each clip's frames, which halves a training epoch's cost)."""
    for op in ops:
        if op == "crop":
            x = random_crop(x, 4, generator)
        elif op == "flip":
            x = random_flip(x, generator)
        elif op == "half_excerpt":
            x = random_excerpt(x, x.shape[2] // 2, generator)
        else:
            raise ValueError(f"unknown augmentation {op!r} (expected crop, flip or half_excerpt)")
    return x
