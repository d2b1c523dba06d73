"""Models by name: the registry behind a study's `model.arch` (resnet18, resnet50, mer_vgg, ...; one module
per family in this package). Every model takes inputs in [0, 1] (normalisation is inside) and exposes
`features`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from irbench.registry import Registry


@dataclass(frozen=True)
class Model:
    """A registered architecture: `build(spec, n_classes=, in_channels=)` makes it from a `model` entry;
    `schema` holds the JSON schema properties of the keys it reads besides `arch`."""

    name: str
    build: Callable[..., nn.Module]
    description: str
    schema: Mapping[str, Any] = field(default_factory=dict)


MODELS: Registry[Model] = Registry("model", "irbench.models")


def register(model: Model) -> Model:
    """Register an architecture under its `arch` name (called at the end of its module)."""
    return MODELS.register(model.name, model)


def build_model(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    """Build the model a configuration's `model` entry names ({arch, ...})."""
    return MODELS.get(spec["arch"]).build(spec, n_classes=n_classes, in_channels=in_channels)
