"""Regression metrics of the MER study: Pearson correlation per target (and their mean) and MAE."""

from __future__ import annotations

import torch
from torch import Tensor


def pearson_per_column(pred: Tensor, target: Tensor) -> Tensor:
    """Pearson correlation of each column of pred with the same column of target (0 where either is
    constant)."""
    p = pred.double() - pred.double().mean(0)
    t = target.double() - target.double().mean(0)
    denom = p.norm(dim=0) * t.norm(dim=0)
    r = (p * t).sum(0) / denom.clamp_min(1e-12)
    return torch.where(denom > 0, r, torch.zeros_like(r)).float()


def mean_pearson(pred: Tensor, target: Tensor) -> float:
    """The mean over targets of the per-target Pearson correlation (the paper's headline metric)."""
    return pearson_per_column(pred, target).mean().item()


def mae(pred: Tensor, target: Tensor) -> float:
    """Mean absolute error over all targets and examples."""
    return (pred - target).abs().mean().item()
