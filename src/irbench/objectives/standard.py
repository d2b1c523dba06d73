"""Standard training: empirical risk (cross-entropy) on clean inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.objectives import Objective, Step, register


def standard(loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy) -> Step:
    """Loss on clean inputs."""

    def loss(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        out = model(x)
        return loss_fn(out, y), out

    return Step(loss)


def build(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    return standard()


OBJECTIVE = register(Objective("standard", build, "cross-entropy on clean inputs"))
