"""Models by name: the registry behind a study's `model.arch` (resnet18, resnet50, mer_vgg, robustbench,
torchvision, ...; one module per family in this package). Every model takes inputs in [0, 1]
(normalisation is inside) and returns logits (or a regressor's outputs); what else it offers the probes
(a representation, FakeReLU, a bottleneck) it declares as capabilities (irbench.models.interface)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from irbench.errors import IrbenchError
from irbench.registry import Registry

Capabilities = frozenset[str] | Callable[[Mapping[str, Any]], frozenset[str]]


@dataclass(frozen=True)
class Model:
    """A registered architecture: `build(spec, n_classes=, in_channels=)` makes it from a `model` entry;
    `schema` holds the JSON schema properties of the keys it reads besides `arch`; `capabilities` what it
    offers the probes beyond logits (irbench.models.interface.CAPABILITIES), fixed or from the entry;
    `load` builds it from a weights file in its own distribution's format (a variant's `checkpoint`;
    None: a file irbench's train job wrote, or a bare state dict of `build`'s module)."""

    name: str
    build: Callable[..., nn.Module]
    description: str
    schema: Mapping[str, Any] = field(default_factory=dict)
    capabilities: Capabilities = frozenset()
    load: Callable[[Mapping[str, Any], Path, int, int], nn.Module] | None = None


# the `name` of a model in another distribution's zoo (arch robustbench, torchvision)
NAME_SCHEMA = {"type": "string", "minLength": 1, "description": "expected a model name in its zoo"}

MODELS: Registry[Model] = Registry("model", "irbench.models")


def register(model: Model) -> Model:
    """Register an architecture under its `arch` name (called at the end of its module)."""
    return MODELS.register(model.name, model)


def build_model(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    """Build the model a configuration's `model` entry names ({arch, ...})."""
    return MODELS.get(spec["arch"]).build(spec, n_classes=n_classes, in_channels=in_channels)


def zoo_name(spec: Mapping[str, Any]) -> str:
    """The `name` a zoo architecture needs, or a one-line error."""
    if not spec.get("name"):
        raise IrbenchError(f"model: arch '{spec['arch']}' needs a `name` (the model in its zoo)")
    return str(spec["name"])


def capabilities_of(spec: Mapping[str, Any]) -> frozenset[str]:
    """What the model a `model` entry names offers the probes beyond logits."""
    caps = MODELS.get(spec["arch"]).capabilities
    return caps(spec) if callable(caps) else caps
