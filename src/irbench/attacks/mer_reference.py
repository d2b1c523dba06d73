"""The MER reference code's attack (CPJKU/robustness_mer_bottleneck, `Attacker.compute_untargeted_adversary`),
batched over clips.

Per clip: Adam (lr `step`) on the perturbation, fed the sign of the loss gradient (ascending the emotion
MSE), for up to `steps` iterations. Before each step the clip's correlation over its 8 emotion outputs is
compared with a threshold that starts at ceil(corr * 10) / 10 and falls by 0.1 each time the correlation
crosses it; the perturbation kept is the last one that crossed a threshold, and a clip stops once it
crosses -0.9 (or its iterations run out). The reference clamps to `clip_eps` but discards the result, so it
is unbounded: irbench projects to the L-inf `eps` of the entry (set it large, as the shipped 1000, for the
reference's unbounded attack). Clips stop independently (a mask, not a loop over clips): Adam is
elementwise, and a stopped clip's perturbation is restored after each step; only running clips go through
the model. The model must be in eval mode (batch-norm statistics fixed), so clips do not interact, and the
loss must be a sum or mean of per-clip terms (the emotion MSE), so a clip's gradient sign is its own.

`details` also returns, per clip, the L2 norm of the perturbation at which its correlation first fell to
each of `thresholds` (NaN where it never did): the paper's measure of robustness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register

LAST_THRESHOLD = -0.9  # the reference stops a clip after it crosses this one


def row_pearson(pred: Tensor, target: Tensor) -> Tensor:
    """Per row, the Pearson correlation of pred with target over the columns (0 where either is constant)."""
    p = pred.double() - pred.double().mean(1, keepdim=True)
    t = target.double() - target.double().mean(1, keepdim=True)
    denom = p.norm(dim=1) * t.norm(dim=1)
    return torch.where(denom > 0, (p * t).sum(1) / denom.clamp_min(1e-30), torch.zeros_like(denom))


def reference_attack(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    *,
    lr: float,
    steps: int,
    eps: float,
    thresholds: Sequence[float] = (),
) -> tuple[Tensor, dict[str, Tensor]]:
    """(x + kept perturbation, details): per clip `iterations`, final `norm` (L2) and `norm_to_<t>`, the L2
    norm at which the correlation first reached each threshold t (NaN if never)."""
    n = len(x)
    delta = torch.zeros_like(x, requires_grad=True)
    opt = torch.optim.Adam([delta], lr=lr)
    kept = torch.zeros_like(x)
    active = torch.ones(n, dtype=torch.bool, device=x.device)
    threshold: Tensor | None = None
    iterations = torch.zeros(n, device=x.device)
    norm_to = {t: torch.full((n,), math.nan, device=x.device) for t in thresholds}
    for it in range(1, steps + 1):
        # only the clips still running go through the model (a stopped clip's rows are never used again;
        # the loss is per clip, so its gradient's sign on a running clip does not depend on the others)
        idx = active.nonzero().squeeze(1)
        out = model(x[idx] + delta[idx])
        with torch.no_grad():
            corr = torch.full((n,), math.inf, dtype=x.dtype, device=x.device)
            corr[idx] = row_pearson(out, y[idx, : out.shape[1]]).to(x.dtype)
            if threshold is None:
                threshold = torch.ceil(corr * 10) / 10
            size = delta.flatten(1).norm(dim=1)
            for t, norms in norm_to.items():
                first = active & (corr <= t) & torch.isnan(norms)
                norms[first] = size[first]
            crossed = active & (corr <= threshold)
            kept[crossed] = delta[crossed].detach()
            finished = crossed & (threshold < LAST_THRESHOLD - 1e-9)
            threshold = torch.where(crossed & ~finished, threshold - 0.1, threshold)
            active &= ~finished
            iterations[active] = it
        if not bool(active.any()):
            break
        frozen = delta.detach().clone()
        opt.zero_grad()
        (grad,) = torch.autograd.grad(loss_fn(out, y[idx]), delta)
        delta.grad = -torch.sign(grad)  # Adam descends: minus the sign ascends the loss
        opt.step()
        with torch.no_grad():
            delta.data = torch.where(active.view(-1, *[1] * (x.dim() - 1)), delta, frozen).clamp(-eps, eps)
    details = {"iterations": iterations, "norm": kept.flatten(1).norm(dim=1)}
    details |= {f"norm_to_{t:g}": v for t, v in norm_to.items()}
    return (x + kept).detach(), details


def details(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any]):
    """The attack with its per-clip details (see `reference_attack`), for the probes that report them."""
    return reference_attack(
        model,
        x,
        y,
        loss_fn,
        lr=spec.get("step", 0.002),  # the reference's Adam learning rate
        steps=spec["steps"],
        eps=spec["eps"],
        thresholds=spec.get("thresholds", ()),
    )


def run(
    model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any], *, bounds, generator
) -> Tensor:
    return details(model, x, y, loss_fn, spec)[0]


ATTACK = register(
    Attack(
        "mer_reference",
        run,
        "the MER reference's attack: Adam on the gradient's sign, per-clip falling correlation thresholds",
        schema={
            "thresholds": {
                "type": "array",
                "items": {"type": "number", "description": "expected a correlation threshold"},
            }
        },
        details=details,
        title=lambda spec: "ref. attack",
    )
)
