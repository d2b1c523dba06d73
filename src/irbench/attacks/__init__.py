"""Attacks by name: the registry behind `method` in a configuration's attack entry (one module per attack
in this package: fgsm, bim, pgd, ...), each running the projected-gradient loop of `projected`.

Every attack maximises `loss_fn(model(x + delta), y)` subject to ||delta|| <= eps and x + delta within
`bounds`. Classifiers pass cross-entropy, regressors MSE, generators a logit or feature objective.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from irbench.attacks.projected import NORMS, UNBOUNDED, LossFn, project
from irbench.registry import Registry

__all__ = [
    "ATTACKS",
    "NORMS",
    "UNBOUNDED",
    "Attack",
    "LossFn",
    "project",
    "register",
    "run_attack",
    "step_size",
]


@dataclass(frozen=True)
class Attack:
    """A named attack: `run(model, x, y, loss_fn, spec, bounds=, generator=)` returns x + delta, detached,
    with ||delta|| <= spec['eps'] in spec['norm'] and x + delta within bounds. `schema` maps any keys it
    reads beyond the common ones (method, norm, eps, step, steps, random_start) to their JSON schema.
    `details(model, x, y, loss_fn, spec)`, where given, returns (x + delta, {name: per-example tensor}): what
    the attack measured on the way (the MER reference attack: the norm that reached each threshold)."""

    name: str
    run: Callable[..., Tensor]
    description: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    details: Callable[..., tuple[Tensor, dict[str, Tensor]]] | None = None
    title: Callable[[Mapping[str, Any]], str] | None = (
        None  # a column header for an entry, if not the default
    )


ATTACKS: Registry[Attack] = Registry("attack", "irbench.attacks")


def step_size(spec: Mapping[str, Any]) -> float:
    """An iterative attack's step: `step` when given, else `step_factor` (default 2.5, the robustness
    library's) * eps / steps, so the step follows eps when eps changes."""
    if "step" in spec:
        return spec["step"]
    return spec.get("step_factor", 2.5) * spec["eps"] / spec["steps"]


def register(attack: Attack) -> Attack:
    """Register an attack under its `method` name (called at the end of its module)."""
    return ATTACKS.register(attack.name, attack)


def run_attack(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    spec: Mapping[str, Any],
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Run the attack a configuration entry describes ({method, norm, eps, ...}): the registered `method`."""
    return ATTACKS.get(spec["method"]).run(model, x, y, loss_fn, spec, bounds=bounds, generator=generator)
