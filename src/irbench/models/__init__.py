"""Model zoo: every model takes inputs in [0, 1] (normalisation is inside) and exposes `features`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from irbench.models.resnet import cifar_resnet18, resnet50


def build_model(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    """Build the model a configuration's `model` entry names ({arch, width} or {arch, stem})."""
    arch = spec["arch"]
    if arch == "resnet18":
        return cifar_resnet18(n_classes=n_classes, width=spec.get("width", 64), in_channels=in_channels)
    if arch == "resnet50":
        return resnet50(n_classes=n_classes, stem=spec.get("stem", "small"), in_channels=in_channels)
    if arch == "mer_vgg":
        from irbench.models.vgg import MERNet

        return MERNet(head=spec.get("head", "a2e"), width=spec.get("width_factor", 1.0))
    raise ValueError(f"model.arch must be resnet18, resnet50 or mer_vgg, got {arch!r}")
