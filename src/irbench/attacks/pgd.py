"""PGD (Madry et al. 2018): `steps` projected steepest-ascent steps from a random point of the eps-ball
(unless `random_start` is false). A missing `step` defaults to 2.5 * eps / steps; `keep_best: batch`
returns the iterate of highest mean loss, as Boychev's training attack does (`projected.pgd`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register, step_size
from irbench.attacks.projected import pgd


def run(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any], **kw) -> Tensor:
    return pgd(
        model,
        x,
        y,
        loss_fn,
        eps=spec["eps"],
        step=step_size(spec),
        steps=spec["steps"],
        norm=spec["norm"],
        random_start=spec.get("random_start", True),
        keep_best=spec.get("keep_best", False),
        **kw,
    )


ATTACK = register(Attack("pgd", run, "projected gradient descent from a random start"))
