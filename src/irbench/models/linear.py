"""A linear baseline for spectrogram regression: each band's mean and standard deviation over time (2 x
n_bands statistics) mapped linearly to the targets. It is the row a CNN must beat: if it does not, the CNN
has not learned more from the audio than its average timbre, and its verdicts say little."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.models import Model, register


class SpectrogramStatsLinear(nn.Module):
    """(N, 1, T, F) spectrogram -> per-band mean and std over time (N, 2F) -> Linear -> n_out targets."""

    def __init__(self, n_bands: int = 149, n_out: int = 8) -> None:
        super().__init__()
        self.head = nn.Linear(2 * n_bands, n_out)
        self.head_kind = "linear"
        self.feature_dim = 2 * n_bands

    def features(self, x: Tensor) -> Tensor:
        frames = x.flatten(1, 2) if x.dim() == 4 else x  # (N, T, F)
        return torch.cat([frames.mean(1), frames.std(1)], dim=1)

    def forward_both(self, x: Tensor) -> tuple[Tensor, None]:
        return self.head(self.features(x)), None

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_both(x)[0]


def _build(spec: Mapping[str, Any], *, n_classes: int = 0, in_channels: int = 1) -> nn.Module:
    return SpectrogramStatsLinear(n_bands=spec.get("n_bands", 149))


register(
    Model(
        "spectrogram_linear",
        _build,
        "a linear baseline on the spectrogram's per-band mean and standard deviation over time",
        schema={"n_bands": {"$ref": "#/$defs/positive_int"}},
        capabilities=frozenset({"two_outputs"}),
    )
)
