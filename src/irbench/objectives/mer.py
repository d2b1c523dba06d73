"""The MER objective (Hoedt et al.): w * MSE(emotions) + (1 - w) * MSE(bottleneck, mid-level targets);
unknown targets (NaN) are left out. With an attack, every `adv_every`-th epoch each clean step is followed
by a second step on the batch attacked with it (the reference code's adversarial training)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.attacks import UNBOUNDED
from irbench.objectives import Objective, Step, attack_in_mode, register

N_EMOTIONS = 8


def mer_loss(model: nn.Module, x: Tensor, y: Tensor, mid_weight: float) -> tuple[Tensor, Tensor]:
    """The MER loss: w * MSE(emotions) + (1 - w) * MSE(bottleneck, mid-level targets) (Hoedt et al.).

    `y` holds the 8 emotions then the 7 mid-level targets; w = 1 ignores the mid-level (A2E, A2B2E)."""
    emotions, mid = model.forward_both(x)
    loss = masked_mse(emotions, y[:, :N_EMOTIONS])
    if mid_weight < 1.0:
        if mid is None:
            raise ValueError("mid_weight < 1 needs a model with a bottleneck head")
        loss = mid_weight * loss + (1.0 - mid_weight) * masked_mse(mid, y[:, N_EMOTIONS:])
    return loss, emotions


def masked_mse(pred: Tensor, target: Tensor) -> Tensor:
    """MSE over the targets that are known (NaN = not rated: Mid-level snippets carry no emotions); zero,
    with a gradient path, when none is."""
    known = ~torch.isnan(target)
    if bool(known.all()):
        return F.mse_loss(pred, target)
    diff = torch.where(known, pred - target.nan_to_num(), torch.zeros_like(pred))
    return diff.square().sum() / known.sum().clamp_min(1)


def emotion_mse(out: Tensor, y: Tensor) -> Tensor:
    """MSE on the emotion columns: the loss the MER attack ascends."""
    return masked_mse(out, y[:, :N_EMOTIONS])


def mer(
    mid_weight: float = 1.0,
    attack: Mapping[str, Any] | None = None,
    adv_every: int = 5,
    generator: torch.Generator | None = None,
) -> Step:
    """The MER objective; with an `attack`, every `adv_every`-th epoch (1-based) each clean step is
    followed by a second step on the batch attacked with it (the reference code's adversarial training)."""

    def loss(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        return mer_loss(model, x, y, mid_weight)

    def second_step(model: nn.Module, x: Tensor, y: Tensor, epoch: int) -> Tensor | None:
        if attack is None or (epoch + 1) % adv_every:
            return None
        x_adv = attack_in_mode(model, x, y, emotion_mse, attack, bounds=UNBOUNDED, generator=generator)
        return mer_loss(model, x_adv, y, mid_weight)[0]

    return Step(loss, second_step)


def build(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    return mer(spec.get("mid_weight", 1.0), spec.get("attack"), spec.get("adv_every", 5), generator)


OBJECTIVE = register(
    Objective(
        "mer",
        build,
        "w * MSE(emotions) + (1 - w) * MSE(bottleneck, mid-level); with an attack, a second step on attacked "
        "inputs every `adv_every`-th epoch (Hoedt et al.)",
        schema={
            "properties": {
                "mid_weight": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": 1,
                    "description": "expected a number in [0, 1]",
                },
                "adv_every": {"$ref": "#/$defs/positive_int"},
            }
        },
        requires=("two_outputs",),  # forward_both: the emotions and the bottleneck units in one pass
    )
)
