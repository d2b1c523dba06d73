"""Pluggable training objectives: each maps (model, batch) to the loss to minimise.

`standard` is empirical risk; `adversarial` is Madry et al.'s min-max: the loss on attacked inputs, the
attack run with the model in eval mode so batch-norm statistics see only the training step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.attacks import run_attack

# objective(model, x, y, epoch) -> (loss, outputs); `epoch` counts from 0.
Objective = Callable[[nn.Module, Tensor, Tensor, int], tuple[Tensor, Tensor]]


def standard(loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy) -> Objective:
    """Loss on clean inputs. Returns (loss, outputs)."""

    def objective(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        out = model(x)
        return loss_fn(out, y), out

    return objective


def adversarial(
    attack: Mapping[str, Any],
    loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
    generator: torch.Generator | None = None,
    warmup_epochs: int = 0,
) -> Objective:
    """Loss on inputs attacked with the `attack` entry (PGD/BIM/FGSM). Returns (loss, outputs).

    With `warmup_epochs` > 0, eps and step grow linearly over the first epochs (eps * (epoch+1)/warmup),
    which keeps a small model from stalling at chance under the full attack from initialisation.
    """

    def objective(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        spec = dict(attack)
        if warmup_epochs > 0 and epoch < warmup_epochs:
            factor = (epoch + 1) / warmup_epochs
            spec["eps"] = attack["eps"] * factor
            if "step" in attack:
                spec["step"] = attack["step"] * factor
        was_training = model.training
        model.eval()
        x_adv = run_attack(model, x, y, loss_fn, spec, generator=generator)
        model.train(was_training)
        out = model(x_adv)
        return loss_fn(out, y), out

    return objective


def build_objective(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Objective:
    """The objective a variant's configuration names."""
    if spec["objective"] == "standard":
        return standard()
    if spec["objective"] == "adversarial":
        warmup = spec.get("train", {}).get("adv_warmup_epochs", 0)
        return adversarial(spec["attack"], generator=generator, warmup_epochs=warmup)
    raise ValueError(f"objective must be standard or adversarial, got {spec['objective']!r}")
