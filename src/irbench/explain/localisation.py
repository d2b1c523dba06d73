"""Localisation scores of attribution maps against ground-truth masks, batched in torch, and the reference
maps they are read against.

Each score takes `heat` (N, H, W), the absolute attribution summed over channels, and a boolean `mask` (N, H,
W). They equal Quantus 0.6.0's RelevanceMassAccuracy, RelevanceRankAccuracy and PointingGame on the same maps
(tests/test_localisation.py); images whose mask is empty score NaN, as there. A score is only meaningful
beside what a map with no knowledge of the model gets: a uniform random map's mass is the mask's area
fraction, and a plain edge map (image gradient magnitude) shows what image structure alone earns; `mass_ratio`
divides the mass by the area fraction (1 = chance). Why two modules of this name: this one holds the scores,
for any map; irbench.probes.localisation runs them on the attributions probe's maps and writes the columns."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def heatmap(attributions: Tensor) -> Tensor:
    """(N, H, W) absolute attribution summed over channels."""
    return attributions.abs().sum(dim=1)


def mask_mass(attributions: Tensor, mask: Tensor) -> Tensor:
    """Per image, the fraction of absolute attribution (summed over channels) inside a boolean mask: the
    attributions probe's `<method>_<mask>_mass` (float32, an empty mask scores 0, unlike mass_accuracy)."""
    heat = attributions.abs().sum(dim=1)
    total = heat.flatten(1).sum(1).clamp_min(1e-12)
    return (heat * mask.float()).flatten(1).sum(1) / total


def _empty_to_nan(score: Tensor, mask: Tensor) -> Tensor:
    return torch.where(mask.flatten(1).any(1), score, torch.full_like(score, float("nan")))


def mass_accuracy(heat: Tensor, mask: Tensor) -> Tensor:
    """Per image, the share of the map's mass inside the mask (Arras et al. 2022)."""
    h, m = heat.flatten(1).double(), mask.flatten(1)
    return _empty_to_nan(((h * m).sum(1) / h.sum(1).clamp_min(1e-30)).float(), mask)


def mass_ratio(heat: Tensor, mask: Tensor) -> Tensor:
    """Mass accuracy over the mask's area fraction: 1 for a map that ignores the mask (chance)."""
    area = mask.flatten(1).float().mean(1)
    return mass_accuracy(heat, mask) / area.clamp_min(1e-12)


def rank_accuracy(heat: Tensor, mask: Tensor) -> Tensor:
    """Per image, the share of its K highest-ranked pixels that lie in the mask, K = the mask's size."""
    h, m = heat.flatten(1), mask.flatten(1)
    order = torch.sort(h, dim=1, descending=True, stable=True).indices
    hits = m.gather(1, order).float().cumsum(1)
    k = m.sum(1)
    top = hits.gather(1, (k - 1).clamp_min(0)[:, None])[:, 0]
    return _empty_to_nan(top / k.clamp_min(1).float(), mask)


def pointing_game(heat: Tensor, mask: Tensor) -> Tensor:
    """Per image, 1 if a pixel of maximal attribution lies in the mask, else 0."""
    h, m = heat.flatten(1), mask.flatten(1)
    peak = h == h.max(1, keepdim=True).values
    return _empty_to_nan((peak & m).any(1).float(), mask)


def random_map(shape: tuple[int, ...], generator: torch.Generator) -> Tensor:
    """A uniform random (N, H, W) map: the chance reference."""
    return torch.rand(shape, generator=generator)


def edge_map(images: Tensor) -> Tensor:
    """(N, H, W) Sobel gradient magnitude summed over channels (replicated borders): image structure alone."""
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], dtype=images.dtype)
    kernels = torch.stack([kx, kx.T])[:, None].to(images.device)
    x = images.flatten(0, 1)[:, None]
    g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernels)
    return g.pow(2).sum(1).sqrt().view(images.shape).sum(1)


SCORES = {"mass_ratio": mass_ratio, "rank_acc": rank_accuracy, "pointing": pointing_game}
