"""BIM (Kurakin et al. 2017): iterated FGSM steps from the clean input, projected to the eps-ball; the
MER study's regression attack. A missing `step` defaults to 2.5 * eps / steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register, step_size
from irbench.attacks.projected import pgd


def bim(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    *,
    eps: float,
    step: float,
    steps: int,
    norm: str = "linf",
    bounds: tuple[float, float] = (0.0, 1.0),
) -> Tensor:
    """Basic iterative method: iterated FGSM steps from the clean input, projected to the eps-ball."""
    return pgd(
        model, x, y, loss_fn, eps=eps, step=step, steps=steps, norm=norm, random_start=False, bounds=bounds
    )


def run(
    model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any], *, bounds, generator
) -> Tensor:
    return bim(
        model,
        x,
        y,
        loss_fn,
        eps=spec["eps"],
        step=step_size(spec),
        steps=spec["steps"],
        norm=spec["norm"],
        bounds=bounds,
    )


ATTACK = register(Attack("bim", run, "iterated gradient(-sign) steps from the clean input"))
