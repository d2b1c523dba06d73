"""Attribution methods by name: the one table that the attributions probe (the maps it computes), the
sanity probe (the maps it recomputes on a randomised model), the figures (how a map is drawn) and the
column headers (`ig` reads IG) all read. A new method is one module in this package plus its name in the
attributions probe's `methods` list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from irbench.registry import Registry


@dataclass(frozen=True)
class AttributionRequest:
    """What a method is asked to explain: `model`'s output for class `target[i]` of each image `x[i]` (in
    [0, 1]), with the probe's settings (`spec`), test images as baselines where a method draws them, and
    the seed its random draws depend on (the same for every model of a seed)."""

    model: nn.Module
    x: Tensor
    target: Tensor
    baselines: Tensor
    spec: Mapping[str, Any]
    seed: int


@dataclass(frozen=True)
class AttributionMethod:
    """A registered method: `explain(request)` returns maps shaped like the images (or with one channel);
    `settings` holds the JSON schema properties of the attributions probe's keys it reads, `required` those
    that must be set when it is selected; `signed` maps are drawn red/blue over the image (LIME's
    superpixel weights), others as |map| heat."""

    key: str
    label: str
    explain: Callable[[AttributionRequest], Tensor]
    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    signed: bool = False


METHODS: Registry[AttributionMethod] = Registry("attribution method", "irbench.explain.methods")


def register(method: AttributionMethod) -> AttributionMethod:
    """Register a method under its key (called at the end of its module)."""
    return METHODS.register(method.key, method)


class SoftmaxOutput(nn.Module):
    """Wraps a classifier so attributions explain class probabilities, not logits (the reference code)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return torch.softmax(self.model(x), dim=1)


def explain_with(key: str, request: AttributionRequest) -> Tensor:
    """One method's maps. Torch's and NumPy's global RNGs are seeded first (captum's GradientShap draws its
    baselines from torch's and its path points from NumPy's), so a method's maps depend on the seed only:
    not on which methods or probes ran before it, nor on whether they are the sanity probe's recomputation."""
    torch.manual_seed(request.seed)
    np.random.seed(request.seed % 2**32)  # noqa: NPY002 - captum reads the legacy global RNG
    return METHODS.get(key).explain(request).detach()


def attribution_maps(
    model: nn.Module, x: Tensor, target: Tensor, baselines: Tensor, spec: Mapping[str, Any], seed: int
) -> dict[str, Tensor]:
    """The maps of every method in `spec['methods']`, in that order: random draws depend on the seed only,
    so two models, or one model's two classes, get the same."""
    request = AttributionRequest(model, x, target, baselines, spec, seed)
    return {key: explain_with(key, request) for key in spec["methods"]}


def label(key: str) -> str:
    """How a method's key reads in a column header or a figure title (an unknown key as written)."""
    return METHODS.get(key).label if key in METHODS else key


def settings_schema() -> dict[str, Any]:
    """For the attributions probe's schema: every method's settings (`properties`), the choice of methods,
    and each method's required settings where it is chosen (`allOf`)."""
    return {
        "properties": {
            "methods": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": METHODS.names(), "description": f"expected one of {METHODS.names()}"},
                "description": "expected a list of attribution methods",
            },
            **{k: v for _, method in METHODS.items() for k, v in method.settings.items()},
        },
        "allOf": [
            {
                "if": {"properties": {"methods": {"contains": {"const": key}}}},
                "then": {"required": list(m.required)},
            }
            for key, m in METHODS.items()
            if m.required
        ],
    }


def order(keys: Sequence[str]) -> list[str]:
    """`keys` that name a method, in registry order (figures of payloads that predate `methods`)."""
    return [k for k in METHODS.names() if k in keys]
