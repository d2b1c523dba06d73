"""FGSM (Goodfellow et al. 2015): one step of size eps, from the clean input unless `random_start`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register
from irbench.attacks.projected import pgd


def fgsm(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    *,
    eps: float,
    norm: str = "linf",
    random_start: bool = False,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fast gradient (sign) method: one step of size eps (optionally from a random start)."""
    return pgd(
        model,
        x,
        y,
        loss_fn,
        eps=eps,
        step=eps,
        steps=1,
        norm=norm,
        random_start=random_start,
        bounds=bounds,
        generator=generator,
    )


def run(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any], **kw) -> Tensor:
    return fgsm(
        model,
        x,
        y,
        loss_fn,
        eps=spec["eps"],
        norm=spec["norm"],
        random_start=spec.get("random_start", False),
        **kw,
    )


ATTACK = register(Attack("fgsm", run, "one gradient(-sign) step of size eps"))
