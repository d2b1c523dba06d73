"""TRADES (Zhang et al. 2019): cross-entropy on clean inputs + beta * KL(f(x) || f(x_adv)), where x_adv
maximises that KL within the variant's attack ball (PGD from a random start: at x itself the KL and its
gradient vanish). Checkpoints are scored on clean and adversarial validation accuracy, as adversarial
training's are."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.objectives import Objective, Step, attack_in_mode, register


def kl_to(logits: Tensor, reference: Tensor) -> Tensor:
    """KL(reference || softmax(logits)) summed over the batch: the loss TRADES' inner PGD ascends."""
    return F.kl_div(F.log_softmax(logits, dim=1), reference, reduction="sum")


def trades(attack: Mapping[str, Any], beta: float, generator: torch.Generator | None = None) -> Step:
    """The TRADES loss for a batch; `attack` must start at a random point of its ball."""

    def loss(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        with torch.no_grad():
            was_training = model.training
            model.eval()
            reference = F.softmax(model(x), dim=1)
            model.train(was_training)
        x_adv = attack_in_mode(model, x, reference, kl_to, attack, generator=generator)
        out = model(x)
        robust = F.kl_div(F.log_softmax(model(x_adv), dim=1), F.softmax(out, dim=1), reduction="batchmean")
        return F.cross_entropy(out, y) + beta * robust, out

    return Step(loss)


def build(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    return trades({"random_start": True, **spec["attack"]}, spec.get("beta", 6.0), generator)


OBJECTIVE = register(
    Objective(
        "trades",
        build,
        "cross-entropy + beta * KL(f(x) || f(x_adv)), x_adv from PGD on that KL (Zhang et al. 2019)",
        schema={
            "properties": {
                "beta": {"type": "number", "minimum": 0, "description": "expected a non-negative number"}
            },
            "required": ["attack"],
        },
        score="clean_and_adversarial",
    )
)
