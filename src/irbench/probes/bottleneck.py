"""How well each unit of a bottleneck model's 7-unit layer tracks its mid-level target (Pearson
correlation per unit on the scored test clips, and their mean): skipped for models without a bottleneck."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from irbench.metrics.regression import pearson_per_column
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    n_emotions = ctx.test.meta["n_emotions"]
    mid = ctx.scored.y[:, n_emotions:]
    if getattr(ctx.model, "head_kind", None) != "bottleneck" or not mid.shape[1]:
        return ProbeOutput()
    x = ctx.scored.x
    with torch.no_grad():
        units = torch.cat([ctx.model.bottleneck(x[i : i + 64]) for i in range(0, len(x), 64)])
    per_unit = pearson_per_column(units, mid)
    names = ctx.test.meta["targets"][n_emotions:]
    metrics = {f"unit_corr_{name}": float(r) for name, r in zip(names, per_unit, strict=True)}
    metrics["unit_corr_avg"] = per_unit.mean().item()
    return ProbeOutput(metrics)


PROBE = register(
    Probe(
        key="bottleneck",
        group="bottleneck",
        run=run,
        description="bottleneck units' correlation with their mid-level targets",
        task="regression",
        requires=("bottleneck",),
        without={"bottleneck": "skipped: the model has no bottleneck"},
        metrics=(
            Metric(
                "unit_corr_{unit}",
                "raw",
                True,
                "Pearson correlation of a bottleneck unit with its mid-level target",
                label="unit: {unit}",
            ),
            Metric(
                "unit_corr_avg",
                "raw",
                True,
                "mean over the bottleneck units of that correlation",
                label="units (mean)",
            ),
        ),
    )
)
