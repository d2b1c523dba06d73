"""Training objectives by name: the registry behind a variant's `objective` (one module per objective in
this package: standard, adversarial, mer, refine, ...).

An objective declares the variant keys it reads (a JSON schema fragment), whether it takes the batch's
flagged-region masks, and how the training loop scores its checkpoints; built for one variant, it is a
`Step`: the loss of a batch and an optional second step on the same batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from irbench.attacks import run_attack
from irbench.registry import Registry

SCORES = ("clean", "clean_and_adversarial")
BATCHNORM_MODES = ("eval", "train")  # the model's mode while a training attack runs


@dataclass(frozen=True)
class Step:
    """One variant's objective: `loss(model, x, y, epoch, mask=None) -> (loss, outputs)` (epoch from 0; `mask`
    (N, 1, H, W) for objectives that take flagged regions) and an optional `second_step(model, x, y, epoch)`
    returning a loss for a second optimiser step on the batch, or None."""

    loss: Callable[..., tuple[Tensor, Tensor]]
    second_step: Callable[[nn.Module, Tensor, Tensor, int], Tensor | None] | None = None

    def __call__(
        self, model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0, **kw: Any
    ) -> tuple[Tensor, Tensor]:
        return self.loss(model, x, y, epoch, **kw)


@dataclass(frozen=True)
class Objective:
    """A registered training objective.

    `build(spec, generator)` makes the Step for a variant's training spec; `schema` is
    {'properties': {...}, 'required': [...]} for the variant keys it reads besides objective, model, train
    and attack (which every variant may carry; list 'attack' in `required` if it needs one); `score`:
    'clean' (validation accuracy) or 'clean_and_adversarial' (mean of clean and attacked validation
    accuracy, Boychev's rule) picks the best checkpoint of classifiers. `requires`: the model capabilities
    its loss calls (irbench.models.interface), checked before any job.
    """

    name: str
    build: Callable[[Mapping[str, Any], torch.Generator | None], Step]
    description: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    uses_region_mask: bool = False
    score: str = "clean"
    requires: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.score not in SCORES:
            raise ValueError(f"objective {self.name!r}: score must be one of {SCORES}, got {self.score!r}")


OBJECTIVES: Registry[Objective] = Registry("objective", "irbench.objectives")


def register(objective: Objective) -> Objective:
    """Register an objective under its name (called at the end of its module)."""
    return OBJECTIVES.register(objective.name, objective)


def build_objective(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    """The Step of the objective a variant's configuration names."""
    return OBJECTIVES.get(spec["objective"]).build(spec, generator)


def attack_in_mode(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    attack: Mapping[str, Any],
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
    batchnorm: str = "eval",
) -> Tensor:
    """Attack a batch with the model in `batchnorm` mode, then restore the model's mode. `eval` (irbench's
    default): batch-norm uses and keeps its running statistics, which only the training step updates;
    `train`: the attack's passes normalise by the batch and update the running statistics, as Boychev's
    trainers attack (`train.attack_batchnorm`)."""
    if batchnorm not in BATCHNORM_MODES:
        raise ValueError(f"batchnorm must be one of {BATCHNORM_MODES}, got {batchnorm!r}")
    was_training = model.training
    model.train(batchnorm == "train")
    x_adv = run_attack(model, x, y, loss_fn, attack, bounds=bounds, generator=generator)
    model.train(was_training)
    return x_adv
