"""LIME-guided refinement's retraining objective (irbench's reading of Nayyem, Rakin, Wang): cross-entropy
on images whose flagged regions are filled, plus a right-for-the-right-reasons penalty (Ross et al. 2017)
inside them, on inputs attacked with the variant's attack; each part off when None / 0. The rounds of
explaining and flagging live in irbench.lime_refinement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.objectives import Objective, Step, attack_in_mode, register
from irbench.seeding import draw_device


def fill_regions(x: Tensor, mask: Tensor, fill: str, generator: torch.Generator | None = None) -> Tensor:
    """`x` (N, C, H, W in [0, 1]) with the pixels where `mask` (N, 1, H, W) is set replaced: `mean` by the
    image's mean colour, `blur` by a Gaussian blur (sigma 2) of the image, `noise` by uniform noise."""
    if fill == "mean":
        filler = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    elif fill == "blur":
        t = torch.arange(-4, 5, dtype=x.dtype, device=x.device)
        g = torch.exp(-(t**2) / 8)
        k = (g[:, None] * g[None, :] / g.sum() ** 2).expand(x.shape[1], 1, 9, 9)
        filler = F.conv2d(F.pad(x, (4, 4, 4, 4), mode="reflect"), k, groups=x.shape[1])
    elif fill == "noise":
        filler = torch.rand(x.shape, generator=generator, device=draw_device(generator)).to(x.device, x.dtype)
    else:
        raise ValueError(f"unknown fill {fill!r} (expected mean, blur or noise)")
    return torch.where(mask, filler, x)


def rrr_penalty(model: nn.Module, x: Tensor, mask: Tensor) -> Tensor:
    """Right for the right reasons (Ross et al. 2017): the squared input gradient of the summed
    log-probabilities inside the flagged regions, per image."""
    x = x.detach().requires_grad_(True)
    logp = F.log_softmax(model(x), dim=1)
    (grad,) = torch.autograd.grad(logp.sum(), x, create_graph=True)
    return (grad * mask).square().sum() / len(x)


def refine(
    fill: str | None,
    rrr_weight: float,
    attack: Mapping[str, Any] | None,
    generator: torch.Generator | None = None,
) -> Step:
    """LIME-guided refinement: cross-entropy on images whose flagged regions are filled (`fill`), plus
    `rrr_weight` times the input-gradient penalty inside them, on inputs attacked with `attack` (each
    part off when None / 0). Takes the batch's region masks as `mask` (N, 1, H, W)."""

    def loss(
        model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        if fill and mask is not None:
            x = fill_regions(x, mask, fill, generator)
        x_in = x
        if attack:
            x_in = attack_in_mode(model, x, y, F.cross_entropy, attack, generator=generator)
        out = model(x_in)
        total = F.cross_entropy(out, y)
        flagged = mask.flatten(1).any(1) if mask is not None else None
        if rrr_weight > 0 and flagged is not None and bool(flagged.any()):
            # only images with flagged pixels have a penalty: the double backward runs on those alone,
            # in eval mode so their small sub-batch leaves the batch-norm statistics alone
            was_training = model.training
            model.eval()
            penalty = rrr_penalty(model, x[flagged], mask[flagged]) * flagged.sum() / len(x)
            model.train(was_training)
            total = total + rrr_weight * penalty
        return total, out

    return Step(loss)


def build(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Step:
    r = spec["refine"]
    return refine(r.get("fill"), r.get("rrr_weight", 0.0), spec.get("attack"), generator)


OBJECTIVE = register(
    Objective(
        "refine",
        build,
        "LIME-guided refinement: flagged regions filled and penalised, attacked inputs",
        schema={"properties": {"refine": {"$ref": "#/$defs/refine"}}, "required": ["refine"]},
        uses_region_mask=True,
    )
)
