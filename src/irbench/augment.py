"""Batched data augmentation on the device (no per-sample Python loops)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from irbench.seeding import draw_device


def random_crop(x: Tensor, pad: int, generator: torch.Generator) -> Tensor:
    """Zero-pad by `pad` and take a random crop of the original size per image: two gathers (rows, then
    columns), any dtype (crop uint8 before converting: 4x less memory traffic)."""
    n, c, h, w = x.shape
    on = draw_device(generator)
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=on).to(x.device)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=generator, device=on).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = (oy[:, None] + torch.arange(h, device=x.device)).view(n, 1, h, 1).expand(n, c, h, w + 2 * pad)
    cols = (ox[:, None] + torch.arange(w, device=x.device)).view(n, 1, 1, w).expand(n, c, h, w)
    return padded.gather(2, rows).gather(3, cols)


def random_flip(x: Tensor, generator: torch.Generator) -> Tensor:
    """Flip each image horizontally with probability 1/2."""
    flip = (torch.rand(x.shape[0], generator=generator, device=draw_device(generator)) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def random_excerpt(x: Tensor, length: int, generator: torch.Generator) -> Tensor:
    """A random window of `length` frames along the time axis (dim 2) per clip: one gather. A network that
    pools over time (the MER CNN) trains on the excerpt and is evaluated on the whole clip."""
    n, c, t, f = x.shape
    length = min(length, t)
    start = torch.randint(0, t - length + 1, (n,), generator=generator, device=draw_device(generator))
    start = start.to(x.device)
    rows = (start[:, None] + torch.arange(length, device=x.device)).view(n, 1, length, 1)
    return x.gather(2, rows.expand(n, c, length, f))


def _affine_resample(x: Tensor, theta: Tensor, mode: str, box: Tensor | None = None) -> Tensor:
    """Resample each image through its 2x3 affine map `theta` (output to input, normalised coordinates,
    zeros outside); with `box` (N, 4: left, top, width, height in pixels) the samples stay within the box's
    pixel centres, as resizing a crop does. uint8 images are rounded back to uint8, as PIL returns them."""
    n, _, h, w = x.shape
    grid = F.affine_grid(theta.to(torch.float32), list(x.shape), align_corners=False)
    if box is not None:
        left, top, bw, bh = (box[:, i].view(n, 1, 1) for i in range(4))
        gx = grid[..., 0].clamp((2 * left + 1) / w - 1, (2 * (left + bw) - 1) / w - 1)
        gy = grid[..., 1].clamp((2 * top + 1) / h - 1, (2 * (top + bh) - 1) / h - 1)
        grid = torch.stack([gx, gy], dim=-1)
    out = F.grid_sample(x.float(), grid, mode=mode, padding_mode="zeros", align_corners=False)
    return out.round().clamp(0, 255).to(x.dtype) if x.dtype == torch.uint8 else out.to(x.dtype)


def random_resized_crop(
    x: Tensor,
    generator: torch.Generator,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    tries: int = 10,
) -> Tensor:
    """torchvision's RandomResizedCrop to the input's size, batched: per image, the first of `tries`
    boxes of random area (`scale` of the image) and log-uniform aspect `ratio` that fits, else the whole
    image; the box is resized back by bilinear interpolation."""
    n, _, h, w = x.shape
    on = draw_device(generator)
    area = h * w * torch.empty(n, tries, device=on).uniform_(*scale, generator=generator)
    log_r = torch.empty(n, tries, device=on).uniform_(
        math.log(ratio[0]), math.log(ratio[1]), generator=generator
    )
    bw = (area * log_r.exp()).sqrt().round()
    bh = (area / log_r.exp()).sqrt().round()
    fits = (bw > 0) & (bw <= w) & (bh > 0) & (bh <= h)
    first = fits.float().argmax(1, keepdim=True)  # the first box that fits (0 when none does)
    any_fits = fits.any(1)
    bw = torch.where(any_fits, bw.gather(1, first)[:, 0], torch.full_like(bw[:, 0], w))
    bh = torch.where(any_fits, bh.gather(1, first)[:, 0], torch.full_like(bh[:, 0], h))
    u = torch.rand(n, 2, device=on, generator=generator)
    top = (u[:, 0] * (h - bh + 1)).floor()
    left = (u[:, 1] * (w - bw + 1)).floor()
    theta = torch.zeros(n, 2, 3, device=on)
    theta[:, 0, 0], theta[:, 1, 1] = bw / w, bh / h
    theta[:, 0, 2] = (2 * left + bw) / w - 1
    theta[:, 1, 2] = (2 * top + bh) / h - 1
    box = torch.stack([left, top, bw, bh], dim=1).to(x.device)
    return _affine_resample(x, theta.to(x.device), "bilinear", box)


def random_rotation(x: Tensor, degrees: float, generator: torch.Generator) -> Tensor:
    """torchvision's RandomRotation(degrees), batched: each image turned about its centre by an angle
    uniform in [-degrees, degrees], nearest-neighbour, the corners filled with 0."""
    n, _, h, w = x.shape
    on = draw_device(generator)
    angle = torch.empty(n, device=on).uniform_(-degrees, degrees, generator=generator) * (math.pi / 180)
    cos, sin = angle.cos(), angle.sin()
    theta = torch.zeros(n, 2, 3, device=on)  # in normalised coordinates, so the aspect enters the shear terms
    theta[:, 0, 0], theta[:, 0, 1] = cos, -sin * h / w
    theta[:, 1, 0], theta[:, 1, 1] = sin * w / h, cos
    return _affine_resample(x, theta.to(x.device), "nearest")


AUGMENTATIONS = ("crop", "flip", "half_excerpt", "resized_crop", "rotate20")


def augment(x: Tensor, ops: list[str], generator: torch.Generator) -> Tensor:
    """Apply the configured augmentations in order (`crop`: pad-4 random crop, `flip`: horizontal flip,
    `half_excerpt`: a random excerpt of half of each clip's frames, which halves a training epoch's cost;
    `resized_crop` and `rotate20`: RandomResizedCrop to the image's size and RandomRotation(20), the Small
    ImageNet notebook's)."""
    for op in ops:
        if op == "crop":
            x = random_crop(x, 4, generator)
        elif op == "flip":
            x = random_flip(x, generator)
        elif op == "half_excerpt":
            x = random_excerpt(x, x.shape[2] // 2, generator)
        elif op == "resized_crop":
            x = random_resized_crop(x, generator)
        elif op == "rotate20":
            x = random_rotation(x, 20.0, generator)
        else:
            raise ValueError(f"unknown augmentation {op!r} (expected one of {', '.join(AUGMENTATIONS)})")
    return x
