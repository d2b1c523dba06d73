"""Model zoo: every model takes inputs in [0, 1] (normalisation is inside) and exposes `features`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from irbench.models.resnet import cifar_resnet18

ARCHS = {"resnet18": cifar_resnet18}


def build_model(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    """Build the model a configuration's `model` entry names ({arch, width})."""
    arch = spec["arch"]
    if arch not in ARCHS:
        raise ValueError(f"model.arch must be one of {sorted(ARCHS)}, got {arch!r}")
    return ARCHS[arch](n_classes=n_classes, width=spec.get("width", 64), in_channels=in_channels)
