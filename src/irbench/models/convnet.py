"""A plain convolutional network (no residual connections): conv-BN-ReLU blocks, max pooling after each
but the last, global average pooling and a linear head. A cheap second architecture for image studies, to
see whether a finding is a property of training or of the ResNet; it serves every vision probe
(`features` with FakeReLU, `fc`, `normalize`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from irbench.models import Model, register
from irbench.models.resnet import SERVES, FakeReLU, Normalize


class ConvNet(nn.Module):
    """`depth` blocks of `width`, 2x width, 4x width, ... channels (3x3 convolutions); `features` is the
    pooled output of the last block."""

    def __init__(self, n_classes: int, width: int = 32, depth: int = 3, in_channels: int = 3) -> None:
        super().__init__()
        self.normalize = Normalize(in_channels)
        blocks, channels = [], in_channels
        for i in range(depth):
            out = width * 2**i
            blocks.append(
                nn.Sequential(nn.Conv2d(channels, out, 3, padding=1, bias=False), nn.BatchNorm2d(out))
            )
            channels = out
        self.blocks = nn.ModuleList(blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, n_classes)
        self.feature_dim = channels

    def features(self, x: Tensor, fake_relu: bool = False) -> Tensor:
        """The pooled last-block activations (its ReLU a FakeReLU with `fake_relu`)."""
        x = self.normalize(x)
        for i, block in enumerate(self.blocks):
            last = i == len(self.blocks) - 1
            x = block(x)
            x = FakeReLU.apply(x) if last and fake_relu else x.relu()
            if not last:
                x = nn.functional.max_pool2d(x, 2)
        return self.pool(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.features(x))


def _build(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return ConvNet(n_classes, spec.get("width", 32), spec.get("depth", 3), in_channels)


MODEL = register(
    Model(
        "convnet",
        _build,
        "a plain CNN: `depth` conv-BN-ReLU blocks from `width` channels, doubling, max-pooled between",
        schema={
            "width": {"$ref": "#/$defs/positive_int"},
            "depth": {"type": "integer", "minimum": 1, "maximum": 6, "description": "expected 1..6 blocks"},
        },
        capabilities=SERVES,
    )
)
