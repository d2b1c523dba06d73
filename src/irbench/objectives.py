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

from irbench.attacks import UNBOUNDED, run_attack

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
) -> Objective:
    """The MER objective; with an `attack`, every `adv_every`-th epoch (1-based) each clean step is
    followed by a second step on the batch attacked with it (the reference code's adversarial training)."""

    def objective(model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0) -> tuple[Tensor, Tensor]:
        return mer_loss(model, x, y, mid_weight)

    def second_step(model: nn.Module, x: Tensor, y: Tensor, epoch: int) -> Tensor | None:
        if attack is None or (epoch + 1) % adv_every:
            return None
        was_training = model.training
        model.eval()
        x_adv = run_attack(model, x, y, emotion_mse, attack, bounds=UNBOUNDED, generator=generator)
        model.train(was_training)
        return mer_loss(model, x_adv, y, mid_weight)[0]

    objective.second_step = second_step  # type: ignore[attr-defined]
    return objective


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
        filler = torch.rand(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
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
) -> Objective:
    """LIME-guided refinement: cross-entropy on images whose flagged regions are filled (`fill`), plus
    `rrr_weight` times the input-gradient penalty inside them, on inputs attacked with `attack` (each
    part off when None / 0). Takes the batch's region masks as `mask` (N, 1, H, W)."""

    def objective(
        model: nn.Module, x: Tensor, y: Tensor, epoch: int = 0, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        if fill and mask is not None:
            x = fill_regions(x, mask, fill, generator)
        x_in = x
        if attack:
            was_training = model.training
            model.eval()
            x_in = run_attack(model, x, y, F.cross_entropy, attack, generator=generator)
            model.train(was_training)
        out = model(x_in)
        loss = F.cross_entropy(out, y)
        flagged = mask.flatten(1).any(1) if mask is not None else None
        if rrr_weight > 0 and flagged is not None and bool(flagged.any()):
            # only images with flagged pixels have a penalty: the double backward runs on those alone,
            # in eval mode so their small sub-batch leaves the batch-norm statistics alone
            was_training = model.training
            model.eval()
            penalty = rrr_penalty(model, x[flagged], mask[flagged]) * flagged.sum() / len(x)
            model.train(was_training)
            loss = loss + rrr_weight * penalty
        return loss, out

    objective.uses_region_mask = True  # type: ignore[attr-defined]
    return objective


def build_objective(spec: Mapping[str, Any], generator: torch.Generator | None = None) -> Objective:
    """The objective a variant's configuration names."""
    if spec["objective"] == "refine":
        r = spec["refine"]
        return refine(r.get("fill"), r.get("rrr_weight", 0.0), spec.get("attack"), generator)
    if spec["objective"] == "mer":
        return mer(spec.get("mid_weight", 1.0), spec.get("attack"), spec.get("adv_every", 5), generator)
    if spec["objective"] == "standard":
        return standard()
    if spec["objective"] == "adversarial":
        warmup = spec.get("train", {}).get("adv_warmup_epochs", 0)
        return adversarial(spec["attack"], generator=generator, warmup_epochs=warmup)
    raise ValueError(f"objective must be standard or adversarial, got {spec['objective']!r}")
