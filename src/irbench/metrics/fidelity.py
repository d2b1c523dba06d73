"""FID and KID from feature sets, computed by torch-fidelity (the library behind torchmetrics' FID, which the
vision paper used), so irbench's numbers are the field's definition; and torch-fidelity's Inception-v3 as a
feature extractor read from a local weights file (nothing is downloaded).
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import Tensor, nn


def fid(features_1: np.ndarray, features_2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (torch-fidelity's FID)."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    stats = [
        fid_features_to_statistics(torch.as_tensor(f, dtype=torch.float64)) for f in (features_1, features_2)
    ]
    return float(fid_statistics_to_metric(stats[0], stats[1], verbose=False)[KEY_METRIC_FID])


def kid(features_1: np.ndarray, features_2: np.ndarray, subsets: int = 100, subset_size: int = 1000) -> float:
    """Kernel Inception Distance (polynomial-kernel MMD, mean over random subsets; torch-fidelity's KID),
    subsets capped at the smaller set's size. Seeded by torch-fidelity (its `rng_seed`)."""
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric

    size = min(subset_size, len(features_1), len(features_2))
    out = kid_features_to_metric(
        torch.as_tensor(features_1, dtype=torch.float64),
        torch.as_tensor(features_2, dtype=torch.float64),
        kid_subsets=subsets,
        kid_subset_size=size,
        verbose=False,
    )
    return float(out[KEY_METRIC_KID_MEAN])


class FidelityInception(nn.Module):
    """torch-fidelity's `inception-v3-compat` extractor: images in [0, 1] are truncated to uint8 (as the
    reference's `(x * 255).type(torch.uint8)`), resized to 299 px as TensorFlow did; returns {"mid": the
    192-d features (second max pool, globally average-pooled), "pool": the 2048-d FID features}."""

    def __init__(self, weights: str | os.PathLike) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["192", "2048"], feature_extractor_weights_path=str(weights)
        )

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        mid, pool = self.net((x.clamp(0, 1) * 255).to(torch.uint8))
        return {"mid": mid, "pool": pool}
