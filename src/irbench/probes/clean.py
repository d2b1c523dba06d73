"""Clean performance on the scored test items: accuracy (classifiers), mean Pearson correlation over the
outputs and mean absolute error (regressors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.evaluation import predict, regression_outputs
from irbench.metrics.regression import mae, mean_pearson
from irbench.probes import ACCURACY_GATES, Metric, Probe, ProbeContext, ProbeOutput, register


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    x, y = ctx.scored.x, ctx.scored.y
    if ctx.task == "regression":
        y = y[:, : ctx.test.meta["n_emotions"]]
        out = regression_outputs(ctx.model, x, ctx.batch_size)
        return ProbeOutput({"corr_clean": mean_pearson(out, y), "mae_clean": mae(out, y)})
    pred = predict(ctx.model, x, ctx.batch_size)
    return ProbeOutput({"acc_clean": (pred == y).float().mean().item()})


PROBE = register(
    Probe(
        key="clean",
        run=run,
        description="performance on unperturbed test inputs",
        metrics=(
            Metric("acc_clean", "percent", True, "accuracy on clean test images", ACCURACY_GATES, "clean"),
            Metric(
                "corr_clean",
                "raw",
                True,
                "mean Pearson correlation of the outputs with the ratings, clean",
                label="corr, clean",
            ),
            Metric(
                "mae_clean",
                "raw",
                False,
                "mean absolute error on the ratings (/10), clean",
                label="MAE, clean",
            ),
        ),
    )
)
