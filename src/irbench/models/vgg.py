"""The MER network of the reference code (CPJKU/robustness_mer_bottleneck): a VGG-style CNN from a
1 x 313 x 149 log-filtered spectrogram to 8 emotion ratings.

Convolutions 64 (5x5, stride 2) - 64 - pool - 128 - 128 - pool - 256 - 256 - 384 - 512 - 256 (1x1), each
followed by BatchNorm and ReLU, Dropout2d(0.3) after each pool (none before the 1x1 convolution, as in the
reference), then global average pooling to a 256-d representation. Initialised as the reference: Kaiming
normal (fan_in, ReLU) convolution and linear weights, zero linear biases, BatchNorm at 1 and 0 (the
convolutions have no bias: BatchNorm follows each). Heads: `a2e`, Linear(256, 8); `bottleneck`,
Linear(256, 7) then Linear(7, 8) with no nonlinearity between (A2M2E trains the 7 units on the
mid-level features, A2B2E leaves them free). `width` scales every channel count (1.0 = the paper's);
`dropout` is the Dropout2d rate (0.3 = the paper's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from irbench.models import Model, register

PLAN = (64, 64, "pool", 128, 128, "pool", 256, 256, 384, 512, 256)
N_EMOTIONS, N_MID_LEVEL = 8, 7


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


def _reference_init(module: nn.Module) -> None:
    """The reference's `initialize_weights`: Kaiming normal (fan_in, ReLU), zero linear biases."""
    if isinstance(module, nn.Conv2d | nn.Linear):
        nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


class MERNet(nn.Module):
    """Spectrogram (N, 1, T, F) -> 8 emotions; `bottleneck(x)` gives the 7 mid-level units (bottleneck
    head only) and `features(x)` the pooled 256-d representation."""

    def __init__(self, head: str = "a2e", width: float = 1.0, dropout: float = 0.3) -> None:
        super().__init__()
        if head not in ("a2e", "bottleneck"):
            raise ValueError(f"head must be a2e or bottleneck, got {head!r}")
        layers: list[nn.Module] = []
        c_in = 1
        for i, item in enumerate(PLAN):
            if item == "pool":
                layers += [nn.MaxPool2d(2), nn.Dropout2d(dropout)]
            else:
                c_out = max(1, round(item * width))
                last = i == len(PLAN) - 1
                layers += _conv(c_in, c_out, 1 if last else (5 if i == 0 else 3), 2 if i == 0 else 1)
                c_in = c_out
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head_kind = head
        if head == "a2e":
            self.head = nn.Linear(c_in, N_EMOTIONS)
        else:
            self.mid = nn.Linear(c_in, N_MID_LEVEL)
            self.head = nn.Linear(N_MID_LEVEL, N_EMOTIONS)
        self.feature_dim = c_in
        self.apply(_reference_init)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def bottleneck(self, x: Tensor) -> Tensor:
        if self.head_kind != "bottleneck":
            raise AttributeError("an a2e model has no bottleneck")
        return self.mid(self.features(x))

    def forward_both(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """(emotions, bottleneck units or None) in one pass."""
        h = self.features(x)
        if self.head_kind == "a2e":
            return self.head(h), None
        mid = self.mid(h)
        return self.head(mid), mid

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_both(x)[0]


def _build(spec: Mapping[str, Any], *, n_classes: int = 0, in_channels: int = 1) -> nn.Module:
    return MERNet(
        head=spec.get("head", "a2e"), width=spec.get("width_factor", 1.0), dropout=spec.get("dropout", 0.3)
    )


register(
    Model(
        "mer_vgg",
        _build,
        "the MER reference code's VGG-style CNN with an A2E or bottleneck head",
        schema={
            "head": {
                "enum": ["a2e", "bottleneck"],
                "description": "expected a2e or bottleneck (mer_vgg only)",
            },
            "width_factor": {
                "type": "number",
                "exclusiveMinimum": 0,
                "description": "expected a positive number (mer_vgg channels)",
            },
            "dropout": {
                "type": "number",
                "minimum": 0,
                "exclusiveMaximum": 1,
                "description": "expected a rate in [0, 1) (mer_vgg Dropout2d)",
            },
        },
        capabilities=lambda spec: frozenset(
            {"two_outputs", "bottleneck"} if spec.get("head") == "bottleneck" else {"two_outputs"}
        ),
    )
)
