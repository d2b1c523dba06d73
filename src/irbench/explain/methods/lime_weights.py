"""LIME (Ribeiro et al. 2016) as a map: each superpixel's weight in lime's own surrogate for the explained
class, painted over its pixels (irbench.explain.lime_batch: batched forward passes, lime's sampling).
The weights are signed: red for the class, blue against it in the figures."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from irbench.explain.lime_batch import explain_batch
from irbench.explain.methods import AttributionMethod, AttributionRequest, register


def explain(r: AttributionRequest) -> Tensor:
    targets = [int(t) for t in r.target]
    exps = explain_batch(
        r.model,
        r.x,
        [[t] for t in targets],
        num_samples=r.spec["lime_samples"],
        batch_size=r.spec["lime_batch_size"],
        segmentation=r.spec.get("segmentation"),
        seed=r.seed,
    )
    maps = np.stack([e.pixel_map(t) for e, t in zip(exps, targets, strict=True)])
    return torch.from_numpy(maps).float()[:, None].to(r.x.device)


METHOD = register(
    AttributionMethod(
        key="lime",
        label="LIME",
        explain=explain,
        description="LIME superpixel weights of the explained class",
        signed=True,
        required=("lime_samples", "lime_batch_size"),
        settings={
            "lime_samples": {"type": "integer", "minimum": 10, "description": "expected an integer >= 10"},
            "lime_batch_size": {"$ref": "#/$defs/positive_int"},
            "segmentation": {"$ref": "#/$defs/segmentation"},
        },
    )
)
