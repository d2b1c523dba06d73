"""The 15 CIFAR-10-C corruptions (Hendrycks & Dietterich 2019) at 5 severities, generated from any split.

Used where the released CIFAR-10-C files are absent (the synthetic default, CIFAR-100). A port of
Hendrycks' `make_cifar_c.py` (the CIFAR, 32 px, constants), with its quirks: glass blur's "swap" copies a
neighbour's pixel (a NumPy view swap), the plasma fractal's jitter is wibble * U(-wibble, wibble), pixelate
resizes with PIL's BOX filter, zoom with scipy's order-1 zoom, defocus blurs its disk with a 3x3 Gaussian
(OpenCV's), and outputs are truncated to uint8 as the released files were. Every function maps a batch of
float64 images (N, 3, H, W) in [0, 1] to a batch of the same shape, vectorised over the batch where the
original is not inherently per image, with a NumPy generator for its randomness. The deterministic ones
match the original's outputs to under 1/255 on average and the stochastic ones its strength to 10%
(tests/test_corruptions.py, against reference outputs). Three differ, as the original needs ImageMagick
and frost photographs: motion blur (and snow's) is ImageMagick's kernel re-implemented (Gaussian weights
on integer pixel offsets along the angle, edge pixels repeated), not checked against ImageMagick; frost
overlays a generated ice texture instead of a photograph.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from irbench.errors import IrbenchError

Corruption = Callable[[torch.Tensor, int, np.random.Generator], torch.Tensor]


def _noise(rng: np.random.Generator, shape, **kw) -> torch.Tensor:
    return torch.from_numpy(rng.normal(size=shape, **kw).astype(np.float32))


def gaussian_noise(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    c = [0.04, 0.06, 0.08, 0.09, 0.10][s - 1]
    return x + _noise(rng, x.shape, scale=c)


def shot_noise(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    c = [500, 250, 100, 75, 50][s - 1]
    return torch.from_numpy(rng.poisson(x.numpy() * c).astype(np.float32) / c)


def impulse_noise(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    c = [0.01, 0.02, 0.03, 0.05, 0.07][s - 1]
    hit = torch.from_numpy(rng.random(x.shape) < c)
    salt = torch.from_numpy(rng.random(x.shape) < 0.5).float()
    return torch.where(hit, salt, x)


def _conv(x: torch.Tensor, kernel: np.ndarray) -> torch.Tensor:
    """Depthwise 2-D convolution with reflected borders (OpenCV's filter2D default)."""
    k = torch.from_numpy(kernel).to(x.dtype)[None, None].repeat(x.shape[1], 1, 1, 1)
    ph, pw = kernel.shape[0] // 2, kernel.shape[1] // 2
    padded = F.pad(x, (pw, pw, ph, ph), mode="reflect")
    return F.conv2d(padded, k, groups=x.shape[1])


def _skimage_gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """scikit-image's `gaussian(img, sigma, channel_axis=-1)`: per channel, nearest-edge borders, 4 sigma."""
    return torch.from_numpy(gaussian_filter(x.numpy(), (0, 0, sigma, sigma), mode="nearest", truncate=4.0))


def _cv2_gaussian3(kernel: np.ndarray, sigma: float) -> np.ndarray:
    """OpenCV's GaussianBlur(kernel, (3, 3), sigma): separable 3-tap Gaussian, reflect-101 borders."""
    g = np.exp(-(np.arange(-1, 2) ** 2) / (2 * sigma**2))
    g /= g.sum()
    padded = np.pad(kernel, 1, mode="reflect")
    rows = g[0] * padded[:-2] + g[1] * padded[1:-1] + g[2] * padded[2:]
    return g[0] * rows[:, :-2] + g[1] * rows[:, 1:-1] + g[2] * rows[:, 2:]


def defocus_blur(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    radius, alias = [(0.3, 0.4), (0.4, 0.5), (0.5, 0.6), (1, 0.2), (1.5, 0.1)][s - 1]
    t = np.arange(-8, 9)
    xx, yy = np.meshgrid(t, t)
    disk = ((xx**2 + yy**2) <= radius**2).astype(np.float32)
    disk /= disk.sum()
    return _conv(x, _cv2_gaussian3(disk, alias))  # filter2D: the kernel as it is, reflect-101 borders


def glass_blur(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    sigma, delta, iterations = [(0.05, 1, 1), (0.25, 1, 1), (0.4, 1, 1), (0.25, 1, 2), (0.4, 1, 2)][s - 1]
    y = np.floor(_skimage_gaussian(x, sigma).numpy() * 255)  # np.uint8(... * 255), as the original
    n, _, h, w = y.shape
    rows = np.arange(n)
    for _ in range(iterations):
        for i in range(h - delta, delta, -1):
            for j in range(w - delta, delta, -1):
                dj, di = rng.integers(-delta, delta, size=(2, n))
                # the original's `x[h, w], x[h', w'] = x[h', w'], x[h, w]` swaps NumPy views: it copies
                # the neighbour into (h, w) and leaves the neighbour as it was
                y[rows, :, i, j] = y[rows, :, i + di, j + dj]
    return _skimage_gaussian(torch.from_numpy(y / 255), sigma)


def _motion_kernel(radius: float, sigma: float) -> np.ndarray:
    """ImageMagick's MotionBlurImage weights: width 2 * ceil(radius) + 1, exp(-i^2 / 2 sigma^2), summing
    to 1."""
    width = int(2 * np.ceil(radius) + 1)
    k = np.exp(-(np.arange(width) ** 2) / (2 * sigma**2))
    return k / k.sum()


def _line_blur(x: torch.Tensor, radius: float, sigma: float, angles: np.ndarray) -> torch.Tensor:
    """ImageMagick's motion blur per image: the Gaussian-weighted sum of the pixels at integer offsets
    round(i cos a), round(i sin a), i = 0..width-1, along the image's angle a; edge pixels repeat."""
    weights = _motion_kernel(radius, sigma)
    n, _, h, w = x.shape
    rows, cols = torch.arange(h)[:, None], torch.arange(w)[None, :]
    out = torch.zeros_like(x)
    for b, angle in enumerate(np.deg2rad(angles)):
        for i, wi in enumerate(weights):
            dx, dy = int(np.ceil(i * np.cos(angle) - 0.5)), int(np.ceil(i * np.sin(angle) - 0.5))
            r, c = (rows + dy).clamp(0, h - 1), (cols + dx).clamp(0, w - 1)
            out[b] += float(wi) * x[b][:, r, c]
    return out


def motion_blur(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    radius, sigma = [(6, 1), (6, 1.5), (6, 2), (8, 2), (9, 2.5)][s - 1]
    blurred = _line_blur(x, radius, sigma, rng.uniform(-45, 45, len(x)))
    return torch.floor(blurred.clamp(0, 1) * 255) / 255  # through an 8-bit PNG, as the original


def _zoom(x: torch.Tensor, factor: float) -> torch.Tensor:
    """The original's clipped_zoom: crop the centre, scipy's order-1 zoom by `factor`, trim to the size."""
    from scipy.ndimage import zoom

    h = x.shape[-1]
    ch = int(np.ceil(h / factor))
    top = (h - ch) // 2
    crop = x[..., top : top + ch, top : top + ch].numpy()
    zoomed = zoom(crop, (1, 1, factor, factor), order=1)
    trim = (zoomed.shape[-1] - h) // 2
    return torch.from_numpy(zoomed[..., trim : trim + h, trim : trim + h])


def zoom_blur(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    top = [1.06, 1.11, 1.16, 1.21, 1.26][s - 1]
    factors = np.arange(1, top, 0.01)
    x32 = x.float()  # the original zooms in float32
    return (x32 + sum(_zoom(x32, f) for f in factors)) / (len(factors) + 1)


def _plasma(n: int, size: int, decay: float, rng: np.random.Generator) -> np.ndarray:
    """(n, size, size) diamond-square fractal noise in [0, 1] (size a power of two): the original's
    `plasma_fractal` per image, including its jitter wibble * U(-wibble, wibble)."""
    maps = np.zeros((n, size, size))
    step, wibble = size, 100.0

    def jitter(mean: np.ndarray) -> np.ndarray:
        return mean / 4 + wibble * rng.uniform(-wibble, wibble, mean.shape)

    while step >= 2:
        half = step // 2
        corners = maps[:, 0:size:step, 0:size:step]
        squares = corners + np.roll(corners, -1, axis=1)
        squares = squares + np.roll(squares, -1, axis=2)
        maps[:, half:size:step, half:size:step] = jitter(squares)
        centres = maps[:, half:size:step, half:size:step]
        corners = maps[:, 0:size:step, 0:size:step]
        left = centres + np.roll(centres, 1, axis=1) + corners + np.roll(corners, -1, axis=2)
        maps[:, 0:size:step, half:size:step] = jitter(left)
        top = centres + np.roll(centres, 1, axis=2) + corners + np.roll(corners, -1, axis=1)
        maps[:, half:size:step, 0:size:step] = jitter(top)
        step, wibble = half, wibble / decay
    maps -= maps.min(axis=(1, 2), keepdims=True)
    return maps / maps.max(axis=(1, 2), keepdims=True).clip(1e-12)


def fog(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    strength, decay = [(0.2, 3), (0.5, 3), (0.75, 2.5), (1, 2), (1.5, 1.75)][s - 1]
    h = x.shape[-1]
    size = 1 << (h - 1).bit_length()
    layer = torch.from_numpy(_plasma(len(x), size, decay, rng)[:, :h, :h].astype(np.float32))[:, None]
    peak = x.amax(dim=(1, 2, 3), keepdim=True)
    return (x + strength * layer) * peak / (peak + strength)


def frost(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    keep, amount = [(1, 0.2), (1, 0.3), (0.9, 0.4), (0.85, 0.4), (0.75, 0.45)][s - 1]
    h = x.shape[-1]
    size = 1 << (h - 1).bit_length()
    ice = _plasma(len(x), size, 1.6, rng)[:, :h, :h]
    crystals = np.clip((ice - 0.35) / 0.65, 0, 1) ** 0.7  # bright, crystalline patches
    tint = np.array([0.85, 0.92, 1.0], dtype=np.float32)[None, :, None, None]
    layer = torch.from_numpy(crystals[:, None].astype(np.float32) * tint)
    return keep * x + amount * layer


def _gray(x: torch.Tensor) -> torch.Tensor:
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])[:, None]


def snow(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    loc, scale, zoom, thr, radius, sigma, keep = [
        (0.1, 0.2, 1, 0.6, 8, 3, 0.95),
        (0.1, 0.2, 1, 0.5, 10, 4, 0.9),
        (0.15, 0.3, 1.75, 0.55, 10, 4, 0.9),
        (0.25, 0.3, 2.25, 0.6, 12, 6, 0.85),
        (0.3, 0.3, 1.25, 0.65, 14, 12, 0.8),
    ][s - 1]
    n, _, h, w = x.shape
    layer = _zoom(_noise(rng, (n, 1, h, w), loc=loc, scale=scale), zoom)
    layer = torch.where(layer < thr, torch.zeros_like(layer), layer).clamp(0, 1)
    layer = _line_blur(layer, radius, sigma, rng.uniform(-135, -45, n))
    x = keep * x + (1 - keep) * torch.maximum(x, _gray(x) * 1.5 + 0.5)
    return x + layer + torch.rot90(layer, 2, dims=(2, 3))


def _hsv_value_or_saturation(x: torch.Tensor, channel: str, fn) -> torch.Tensor:
    """Apply `fn` to HSV value or saturation (via scikit-image), back to RGB."""
    from skimage.color import hsv2rgb, rgb2hsv

    hsv = rgb2hsv(x.clamp(0, 1).permute(0, 2, 3, 1).numpy())
    k = {"s": 1, "v": 2}[channel]
    hsv[..., k] = np.clip(fn(hsv[..., k]), 0, 1)
    return torch.from_numpy(hsv2rgb(hsv).astype(np.float32)).permute(0, 3, 1, 2)


def brightness(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    c = [0.05, 0.1, 0.15, 0.2, 0.3][s - 1]
    return _hsv_value_or_saturation(x, "v", lambda v: v + c)


def contrast(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    c = [0.75, 0.5, 0.4, 0.3, 0.15][s - 1]
    mean = x.mean(dim=(2, 3), keepdim=True)
    return (x - mean) * c + mean


def elastic_transform(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    size = x.shape[-1]
    alpha, sigma, affine = [
        (0, 0, 0.08),
        (0.05, 0.2, 0.07),
        (0.08, 0.06, 0.06),
        (0.1, 0.04, 0.05),
        (0.1, 0.03, 0.03),
    ][s - 1]
    alpha, sigma, affine = alpha * size, sigma * size, affine * size
    n = len(x)
    # random affine: three points around the centre moved by up to `affine` pixels
    c, q = size // 2, size // 3
    src = np.array([[c + q, c + q], [c + q, c - q], [c - q, c - q]], dtype=np.float64)
    dst = src[None] + rng.uniform(-affine, affine, size=(n, 3, 2))
    ones = np.ones((3, 1))
    mats = np.stack([np.linalg.solve(np.hstack([d, ones]), np.hstack([src, ones]))[:, :2].T for d in dst])
    yy, xx = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    pts = np.stack([xx.ravel(), yy.ravel(), np.ones(size * size)])  # output pixel -> source pixel
    src_xy = np.einsum("nij,jk->nik", mats, pts).reshape(n, 2, size, size)
    if alpha > 0:
        disp = rng.uniform(-1, 1, size=(n, 2, size, size))
        disp = gaussian_filter(disp, (0, 0, sigma, sigma), mode="reflect", truncate=3) * alpha
        src_xy = src_xy + disp[:, ::-1]
    grid = torch.from_numpy((src_xy / (size - 1) * 2 - 1).transpose(0, 2, 3, 1)).to(x.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=True)


def pixelate(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    """Down and up with PIL's BOX filter, as the original (torch's `area` resize is not BOX)."""
    from PIL import Image

    c = [0.95, 0.9, 0.85, 0.75, 0.65][s - 1]
    h = x.shape[-1]
    out = []
    for img in _to_uint8(x):
        small = Image.fromarray(img).resize((int(h * c),) * 2, Image.BOX)
        out.append(np.asarray(small.resize((h, h), Image.BOX)))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).double() / 255


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """(N, H, W, 3) uint8 of float images in [0, 1] (exact for images that came from uint8)."""
    return (x.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def jpeg_compression(x: torch.Tensor, s: int, rng: np.random.Generator) -> torch.Tensor:
    from PIL import Image

    quality = [80, 65, 58, 50, 40][s - 1]
    out = []
    for img in _to_uint8(x):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=quality)
        out.append(np.asarray(Image.open(buf).convert("RGB")))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).float() / 255


CORRUPTIONS: dict[str, Corruption] = {
    f.__name__: f
    for f in (
        gaussian_noise,
        shot_noise,
        impulse_noise,
        defocus_blur,
        glass_blur,
        motion_blur,
        zoom_blur,
        snow,
        frost,
        fog,
        brightness,
        contrast,
        elastic_transform,
        pixelate,
        jpeg_compression,
    )
}


def corrupt(images: torch.Tensor, name: str, severity: int, seed: int) -> torch.Tensor:
    """uint8 (N, 3, H, W) images with corruption `name` at `severity` (1-5); seeded per (seed, name,
    severity), so every model is tested on the same corrupted images."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r} (expected one of {', '.join(CORRUPTIONS)})")
    if not 1 <= severity <= 5:
        raise ValueError(f"corruption severity must be 1..5, got {severity}")
    rng = np.random.default_rng([seed, list(CORRUPTIONS).index(name), severity])
    x = images.double() / 255  # float64, as the original's NumPy
    y = CORRUPTIONS[name](x, severity, rng).double()
    return (y.clamp(0, 1) * 255).to(torch.uint8)  # truncated, as np.uint8 wrote the released files


def load_released(
    root: str | os.PathLike, names: Sequence[str], severities: Sequence[int], n_images: int
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """The released CIFAR-10-C layout: `<name>.npy` (5 blocks of equal size, severities 1-5, NHWC uint8)
    and `labels.npy`. Returns {"<name>/<severity>": uint8 (n, 3, H, W)} and the n labels."""
    root = Path(root)

    def _load(path: Path) -> np.ndarray:
        if not path.is_file():
            raise IrbenchError(
                f"{path}: file not found (expected the CIFAR-10-C layout: <corruption>.npy, labels.npy)"
            )
        try:
            return np.load(path, mmap_mode="r", allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise IrbenchError(f"{path}: not a readable .npy array ({exc})") from exc

    labels = _load(root / "labels.npy")
    block = len(labels) // 5
    if block == 0 or len(labels) % 5:
        raise IrbenchError(
            f"{root / 'labels.npy'}: expected 5 equal severity blocks, found {len(labels)} labels"
        )
    n = min(n_images, block)
    out = {}
    for name in names:
        arr = _load(root / f"{name}.npy")
        if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[0] != len(labels) or arr.shape[3] != 3:
            raise IrbenchError(
                f"{root / f'{name}.npy'}: expected uint8 ({len(labels)}, H, W, 3), "
                f"got {arr.dtype} {arr.shape}"
            )
        for s in severities:
            start = (s - 1) * block
            block_images = np.array(arr[start : start + n])  # a writable copy of the memory-mapped block
            out[f"{name}/{s}"] = torch.from_numpy(block_images).permute(0, 3, 1, 2)
    return out, torch.from_numpy(np.asarray(labels[:n]).astype(np.int64))


def corruption_set(
    images: torch.Tensor,
    labels: torch.Tensor,
    names: Sequence[str],
    severities: Sequence[int],
    seed: int,
    released: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """{"images": {"<name>/<severity>": uint8 tensor}, "labels", "source"}: the released CIFAR-10-C files
    where `released` names their folder, else each corruption generated from `images` (a test split)."""
    if released:
        out, y = load_released(released, names, severities, len(images))
        return {"images": out, "labels": y, "source": str(released)}
    out = {f"{n}/{s}": corrupt(images, n, s, seed) for n in names for s in severities}
    return {"images": out, "labels": labels.clone(), "source": "generated"}
