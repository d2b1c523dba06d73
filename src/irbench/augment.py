"""Batched data augmentation on the device (no per-sample Python loops)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def random_crop(x: Tensor, pad: int, generator: torch.Generator) -> Tensor:
    """Zero-pad by `pad` and take a random crop of the original size per image, in one gather."""
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(x.device)
    rows = (oy[:, None] + torch.arange(h, device=x.device))[:, :, None]  # (n, h, 1)
    cols = (ox[:, None] + torch.arange(w, device=x.device))[:, None, :]  # (n, 1, w)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


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
