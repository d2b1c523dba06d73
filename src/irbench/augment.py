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


def augment(x: Tensor, ops: list[str], generator: torch.Generator) -> Tensor:
    """Apply the configured augmentations (`crop`: pad-4 random crop, `flip`: horizontal flip)."""
    for op in ops:
        if op == "crop":
            x = random_crop(x, 4, generator)
        elif op == "flip":
            x = random_flip(x, generator)
        else:
            raise ValueError(f"unknown augmentation {op!r} (expected crop or flip)")
    return x
