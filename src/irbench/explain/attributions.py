"""Integrated Gradients and expected-gradients SHAP, as in Boychev's reference code.

IG integrates the gradient of the *softmax* output along the straight path from a baseline with the exact
trapezoid rule (end points at half weight, weights summing to 1, so the attributions sum to
f(x) - f(baseline) up to the integration error; captum's `riemann_trapezoid` weights sum to (n-1)/n).
The baseline is configurable: the reference code's average over 10 uniform random images (default), or
black, which gives a black region (and every channel a colour lacks) zero attribution by construction.
SHAP is captum's GradientShap (expected gradients) with baselines drawn from test images. Both are
batched (`internal_batch_size` path points per pass, `n_samples`), never a Python loop over images.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from captum.attr import GradientShap
from torch import Tensor, nn


class SoftmaxOutput(nn.Module):
    """Wraps a classifier so attributions explain class probabilities, not logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.model(x), dim=1)


BASELINES = ("random", "black")


def ig_baselines(x: Tensor, kind: str, n: int, generator: torch.Generator | None = None) -> Tensor:
    """(n, *x.shape) IG baselines: `random` uniform images in [0, 1] (seeded), `black` zeros (n = 1)."""
    if kind == "black":
        return torch.zeros(1, *x.shape, dtype=x.dtype, device=x.device)
    if kind != "random":
        raise ValueError(f"IG baseline must be one of {BASELINES}, got {kind!r}")
    return torch.rand(n, *x.shape, generator=generator, dtype=x.dtype).to(x.device)


def trapezoid_weights(steps: int) -> Tensor:
    """The exact trapezoid rule on `steps` equally spaced points of [0, 1]: 1/(steps-1), ends halved."""
    if steps < 2:
        raise ValueError(f"IG needs at least 2 path points, got {steps}")
    w = torch.full((steps,), 1.0 / (steps - 1))
    w[0] = w[-1] = 0.5 / (steps - 1)
    return w


def integrated_gradients(
    model: nn.Module,
    x: Tensor,
    target: Tensor,
    *,
    steps: int = 50,
    internal_batch_size: int = 256,
    baseline: str = "random",
    n_baselines: int = 10,
    generator: torch.Generator | None = None,
) -> Tensor:
    """IG attributions (same shape as x) of the softmax output for `target`, averaged over the baselines
    (`ig_baselines`); each path integrated with the exact trapezoid rule on `steps` points."""
    f = SoftmaxOutput(model).eval()
    bases = ig_baselines(x, baseline, n_baselines, generator)
    alphas, weights = torch.linspace(0, 1, steps, dtype=x.dtype), trapezoid_weights(steps).to(x.dtype)
    n = len(x)
    total = torch.zeros_like(x)
    for base in bases:
        grads = torch.zeros_like(x)
        # every (path point k, image i) pair once, flattened as j = k * n + i, `internal_batch_size` a pass
        for start in range(0, steps * n, internal_batch_size):
            j = torch.arange(start, min(start + internal_batch_size, steps * n), device=x.device)
            k, i = j // n, j % n
            a = alphas.to(x.device)[k].view(-1, *[1] * (x.dim() - 1))
            points = (base[i] + a * (x[i] - base[i])).detach().requires_grad_(True)
            (g,) = torch.autograd.grad(f(points).gather(1, target[i, None]).sum(), points)
            grads.index_add_(0, i, weights.to(x.device)[k].view_as(a) * g)
        total += (x - base) * grads
    return (total / len(bases)).detach()


def expected_gradients(
    model: nn.Module, x: Tensor, target: Tensor, baselines: Tensor, *, samples: int = 32
) -> Tensor:
    """Expected-gradients SHAP attributions of the softmax output, baselines from the test set."""
    shap = GradientShap(SoftmaxOutput(model).eval())
    return shap.attribute(x, baselines=baselines, n_samples=samples, stdevs=0.0, target=target).detach()


def mask_mass(attributions: Tensor, mask: Tensor) -> Tensor:
    """Per image, the fraction of absolute attribution (summed over channels) inside a boolean mask."""
    heat = attributions.abs().sum(dim=1)
    total = heat.flatten(1).sum(1).clamp_min(1e-12)
    return (heat * mask.float()).flatten(1).sum(1) / total


def attribution_maps(
    model: nn.Module, x: Tensor, target: Tensor, shap_base: Tensor, spec: Mapping[str, Any], seed: int
) -> dict[str, Tensor]:
    """IG and SHAP maps of `model` for `target` with the attributions probe's settings (`spec`); random
    draws (IG's baselines, SHAP's samples) depend on the seed only, so two models, or one model's two
    classes, get the same."""
    torch.manual_seed(seed)  # GradientShap draws its baselines and path points from the global RNG
    return {
        "ig": integrated_gradients(
            model,
            x,
            target,
            steps=spec["ig_steps"],
            internal_batch_size=spec["internal_batch_size"],
            baseline=spec.get("ig_baseline", "random"),
            n_baselines=spec.get("ig_baselines", 10),
            generator=torch.Generator().manual_seed(seed),
        ),
        "shap": expected_gradients(model, x, target, shap_base, samples=spec["shap_samples"]),
    }
