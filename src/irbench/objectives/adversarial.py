"""Adversarial training (Madry et al.'s min-max): the loss on inputs attacked with the variant's `attack`,
the attack run with batch-norm in eval mode (or, with `train.attack_batchnorm: train`, in train mode as
Boychev's trainers run it). Checkpoints are scored by the mean of clean and adversarial validation accuracy
(Boychev)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.objectives import Objective, Step, attack_in_mode, register


def adversarial(
    attack: Mapping[str, Any],
    loss_fn: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy,
    generator: torch.Generator | None = None,
    warmup_epochs: int = 0,
    batchnorm: str = "eval",
) -> Step:
    """Loss on inputs attacked with the `attack` entry (PGD/BIM/FGSM).

    With `warmup_epochs` > 0, eps and step grow linearly over the first epochs (eps * (epoch+1)/warmup),
    which keeps a small model from stalling at chance under the full attack from initialisation.
    """

    def loss(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        spec = dict(attack)
        if warmup_epochs > 0 and epoch < warmup_epochs:
            factor = (epoch + 1) / warmup_epochs
            spec["eps"] = attack["eps"] * factor
            if "step" in attack:
                spec["step"] = attack["step"] * factor
        x_adv = attack_in_mode(model, x, y, loss_fn, spec, generator=generator, batchnorm=batchnorm)
        out = model(x_adv)
        return loss_fn(out, y), out

    return Step(loss)


def build(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    train = spec.get("train", {})
    return adversarial(
        spec["attack"],
        generator=generator,
        warmup_epochs=train.get("adv_warmup_epochs", 0),
        batchnorm=train.get("attack_batchnorm", "eval"),
    )


OBJECTIVE = register(
    Objective(
        "adversarial",
        build,
        "cross-entropy on attacked inputs (PGD adversarial training)",
        schema={"required": ["attack"]},
        score="clean_and_adversarial",
    )
)
