"""CIFAR-style ResNets: a 3x3 stem without max-pool for 32 px inputs, and a width knob.

ResNet-18 at width 64 is the standard network (11M parameters); the quick default uses ResNet-10 (one
block per stage) at width 8, 1.8x cheaper per image on a CPU than a ResNet-18 of that width. Inputs are in
[0, 1]; per-channel normalisation is a buffer inside the model so attacks work in pixel space.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, Bottleneck

from irbench.models import Model, register


class Normalize(nn.Module):
    """Per-channel (x - mean) / std with mean and std stored as buffers (saved with the weights)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(1, channels, 1, 1))
        self.register_buffer("std", torch.ones(1, channels, 1, 1))

    def set_stats(self, mean: Tensor, std: Tensor) -> None:
        """Set the statistics from per-channel training-set mean and std."""
        self.mean.copy_(mean.view_as(self.mean))
        self.std.copy_(std.clamp_min(1e-6).view_as(self.std))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class FakeReLU(torch.autograd.Function):
    """ReLU forward, identity backward (Engstrom et al. 2019, the robustness library): a representation
    unit that is at zero still gets a gradient, so generation and inversion can move it."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # noqa: ANN001 - autograd's signature
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # noqa: ANN001
        return grad


def last_block(block: nn.Module, x: Tensor, fake_relu: bool) -> Tensor:
    """A torchvision BasicBlock or Bottleneck, its final ReLU (after the residual sum) a FakeReLU if asked."""
    if not fake_relu:
        return block(x)
    if isinstance(block, BasicBlock):
        out = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
    elif isinstance(block, Bottleneck):
        out = block.relu(block.bn1(block.conv1(x)))
        out = block.bn3(block.conv3(block.relu(block.bn2(block.conv2(out)))))
    else:
        raise TypeError(f"fake_relu needs a BasicBlock or Bottleneck, got {type(block).__name__}")
    identity = block.downsample(x) if block.downsample is not None else x
    return FakeReLU.apply(out + identity)


def _stage(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """A ResNet stage of BasicBlocks; the first may downsample with a 1x1 projection."""
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes)
        )
    layers = [BasicBlock(inplanes, planes, stride, downsample)]
    layers += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class CifarResNet(nn.Module):
    """ResNet with a 3x3 stride-1 stem for small images; `features` is the penultimate representation."""

    def __init__(self, blocks: tuple[int, ...], n_classes: int, width: int = 64, in_channels: int = 3):
        super().__init__()
        self.normalize = Normalize(in_channels)
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)
        )
        stages, planes = [], width
        for i, n in enumerate(blocks):
            out = width * 2**i
            stages.append(_stage(planes, out, n, stride=1 if i == 0 else 2))
            planes = out
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(planes, n_classes)
        self.feature_dim = planes

    def features(self, x: Tensor, fake_relu: bool = False) -> Tensor:
        """The penultimate representation R(x): globally pooled last-stage activations (the last ReLU a
        FakeReLU with `fake_relu`, for generation and inversion)."""
        x = self.stem(self.normalize(x))
        blocks = [b for stage in self.stages for b in stage]
        for block in blocks[:-1]:
            x = block(x)
        return self.pool(last_block(blocks[-1], x, fake_relu)).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


def cifar_resnet18(n_classes: int = 10, width: int = 64, in_channels: int = 3) -> CifarResNet:
    """ResNet-18 (2-2-2-2 BasicBlocks) for 32 px inputs."""
    return CifarResNet((2, 2, 2, 2), n_classes=n_classes, width=width, in_channels=in_channels)


class TorchvisionResNet(nn.Module):
    """A torchvision ResNet with irbench's conventions: inputs in [0, 1], a stem chosen for the image
    size (`small`: 3x3 stride-1 conv, no max-pool, for 32 px; `large`: torchvision's 7x7 stride-2 conv and
    max-pool, for 128 px and up), and `features` returning the penultimate representation."""

    def __init__(self, net: nn.Module, stem: str, in_channels: int = 3) -> None:
        super().__init__()
        if stem == "small":
            net.conv1 = nn.Conv2d(in_channels, net.conv1.out_channels, 3, padding=1, bias=False)
            net.maxpool = nn.Identity()
        elif stem != "large":
            raise ValueError(f"stem must be small or large, got {stem!r}")
        self.normalize = Normalize(in_channels)
        self.net = net
        self.fc = net.fc
        net.fc = nn.Identity()
        self.feature_dim = self.fc.in_features

    def features(self, x: Tensor, fake_relu: bool = False) -> Tensor:
        """The penultimate representation R(x): globally pooled last-stage activations (the last ReLU a
        FakeReLU with `fake_relu`)."""
        n = self.net
        x = n.maxpool(n.relu(n.bn1(n.conv1(self.normalize(x)))))
        blocks = [b for layer in (n.layer1, n.layer2, n.layer3, n.layer4) for b in layer]
        for block in blocks[:-1]:
            x = block(x)
        return torch.flatten(n.avgpool(last_block(blocks[-1], x, fake_relu)), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


def resnet50(n_classes: int = 10, stem: str = "small", in_channels: int = 3) -> TorchvisionResNet:
    """torchvision's ResNet-50 (randomly initialised; nothing is downloaded) with an irbench stem."""
    from torchvision.models import resnet50 as tv_resnet50

    return TorchvisionResNet(tv_resnet50(weights=None, num_classes=n_classes), stem, in_channels)


# every vision probe: a representation with FakeReLU, a linear head, normalisation from the training split
SERVES = frozenset({"representation", "fake_relu", "normalize"})


def _build_resnet10(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return CifarResNet(
        (1, 1, 1, 1), n_classes=n_classes, width=spec.get("width", 64), in_channels=in_channels
    )


def _build_resnet18(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return cifar_resnet18(n_classes=n_classes, width=spec.get("width", 64), in_channels=in_channels)


def _build_resnet50(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return resnet50(n_classes=n_classes, stem=spec.get("stem", "small"), in_channels=in_channels)


register(
    Model(
        "resnet18",
        _build_resnet18,
        "CIFAR ResNet-18 (3x3 stem); `width` channels in the first stage (64 = the paper's)",
        schema={"width": {"$ref": "#/$defs/positive_int"}},
        capabilities=SERVES,
    )
)
register(
    Model(
        "resnet10",
        _build_resnet10,
        "CIFAR ResNet-10 (one BasicBlock per stage, 3x3 stem): the quick scale's cheaper network",
        schema={"width": {"$ref": "#/$defs/positive_int"}},
        capabilities=SERVES,
    )
)
register(
    Model(
        "resnet50",
        _build_resnet50,
        "torchvision ResNet-50 with an irbench stem",
        schema={
            "stem": {
                "enum": ["small", "large"],
                "description": "expected small (32 px) or large (128 px and up)",
            }
        },
        capabilities=SERVES,
    )
)
