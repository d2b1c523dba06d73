"""torchvision architectures by `name` (resnet18, vgg11, vit_b_16, ...), randomly initialised by `build`
and read from a weights file (torchvision's own state dicts, e.g. resnet18-f37072fd.pth) by a variant's
`checkpoint`. The input normalisation the weights were trained with (`mean`, `std`; ImageNet's by
default) is inside the model, so it takes inputs in [0, 1] like every irbench model. ResNets keep the
whole vision interface (representation with FakeReLU); other architectures are served by the fallback."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from irbench.errors import IrbenchError
from irbench.io import load_torch
from irbench.models import NAME_SCHEMA, Model, register, zoo_name
from irbench.models.resnet import Normalize, TorchvisionResNet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Normalized(nn.Module):
    """A torchvision network behind a fixed per-channel normalisation."""

    def __init__(self, net: nn.Module, in_channels: int = 3) -> None:
        super().__init__()
        self.normalize = Normalize(in_channels)
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.normalize(x))


def _is_resnet(spec: Mapping[str, Any]) -> bool:
    return str(spec.get("name", "")).startswith(("resnet", "wide_resnet", "resnext"))


def _torchvision(spec: Mapping[str, Any], n_classes: int) -> nn.Module:
    from torchvision.models import get_model, list_models

    name = zoo_name(spec)
    if name not in list_models():
        raise IrbenchError(f"model.name: torchvision has no model {name!r}")
    return get_model(name, weights=None, num_classes=n_classes)


def _wrap(net: nn.Module, spec: Mapping[str, Any], in_channels: int) -> nn.Module:
    model = TorchvisionResNet(net, "large", in_channels) if _is_resnet(spec) else Normalized(net, in_channels)
    mean, std = spec.get("mean", IMAGENET_MEAN), spec.get("std", IMAGENET_STD)
    model.normalize.set_stats(torch.tensor(mean), torch.tensor(std))
    return model.eval()


def _build(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return _wrap(_torchvision(spec, n_classes), spec, in_channels)


def _load(spec: Mapping[str, Any], path: Path, n_classes: int, in_channels: int) -> nn.Module:
    """torchvision's state dict (as torch.hub saves it, or under a `state_dict` key) into its network."""
    payload = load_torch(path)
    state = payload.get("state_dict", payload) if isinstance(payload, Mapping) else None
    if not isinstance(state, Mapping):
        raise IrbenchError(f"checkpoint.path {path}: expected a torchvision state dict")
    net = _torchvision(spec, n_classes)
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise IrbenchError(
            f"checkpoint.path {path}: not a torchvision {spec['name']} with {n_classes} classes ({first})"
        ) from err
    return _wrap(net, spec, in_channels)


register(
    Model(
        "torchvision",
        _build,
        "a torchvision architecture (`name`) with its input normalisation (`mean`, `std`) inside",
        schema={
            "name": NAME_SCHEMA,
            "mean": {
                "type": "array",
                "items": {"type": "number"},
                "description": "expected per-channel means",
            },
            "std": {
                "type": "array",
                "items": {"type": "number", "exclusiveMinimum": 0},
                "description": "expected positive per-channel stds",
            },
        },
        capabilities=lambda spec: frozenset({"representation", "fake_relu"} if _is_resnet(spec) else ()),
        load=_load,
    )
)
