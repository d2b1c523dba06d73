"""Integrated Gradients and expected-gradients SHAP (captum), as in Boychev's reference code.

IG integrates the gradient of the *softmax* output from a black baseline with the trapezoid rule;
SHAP is captum's GradientShap (expected gradients) with baselines drawn from test images. Both are
batched inside captum (`internal_batch_size`, `n_samples`), never a Python loop over images.
"""

from __future__ import annotations

import torch
from captum.attr import GradientShap, IntegratedGradients
from torch import Tensor, nn


class SoftmaxOutput(nn.Module):
    """Wraps a classifier so attributions explain class probabilities, not logits."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.model(x), dim=1)


def integrated_gradients(
    model: nn.Module, x: Tensor, target: Tensor, *, steps: int = 50, internal_batch_size: int = 256
) -> Tensor:
    """IG attributions (same shape as x) of the softmax output for `target`, black baseline."""
    ig = IntegratedGradients(SoftmaxOutput(model).eval())
    return ig.attribute(
        x,
        baselines=torch.zeros_like(x),
        target=target,
        n_steps=steps,
        method="riemann_trapezoid",
        internal_batch_size=internal_batch_size,
    ).detach()


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
