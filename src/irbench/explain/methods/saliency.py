"""Saliency (Simonyan et al. 2014): the gradient of the explained class's softmax output with respect to
the input, in one backward pass; the cheapest gradient map, and the one that most often fails sanity
checks (Adebayo et al. 2018)."""

from __future__ import annotations

import torch
from torch import Tensor

from irbench.explain.methods import AttributionMethod, AttributionRequest, SoftmaxOutput, register


def explain(r: AttributionRequest) -> Tensor:
    x = r.x.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(SoftmaxOutput(r.model).eval()(x).gather(1, r.target[:, None]).sum(), x)
    return grad


METHOD = register(
    AttributionMethod(
        key="saliency",
        label="Saliency",
        explain=explain,
        description="the input gradient of the explained class's softmax output",
    )
)
