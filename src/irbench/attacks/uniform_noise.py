"""Uniform noise: a random point of the eps-ball (uniform in the L-inf cube or the L2 ball), no gradient.
The floor every gradient attack must beat: a model that loses more accuracy to noise than to PGD at the
same eps points at a broken attack (gradient masking; Carlini et al. 2019)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register
from irbench.attacks.projected import project, random_init


def run(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    spec: Mapping[str, Any],
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
) -> Tensor:
    x = x.detach()
    delta = random_init(x, eps=spec["eps"], norm=spec["norm"], generator=generator)
    return x + project(delta, x, eps=spec["eps"], norm=spec["norm"], bounds=bounds)


ATTACK = register(Attack("uniform_noise", run, "a uniform random point of the eps-ball (no gradient)"))
