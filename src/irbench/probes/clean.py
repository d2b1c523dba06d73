"""Clean performance on the scored test items: accuracy, mean confidence and expected calibration error
(classifiers; robust models are less confident, and confidence moves faithfulness scores), mean Pearson
correlation over the outputs and mean absolute error (regressors)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from irbench.evaluation import logits_of, regression_outputs
from irbench.metrics.regression import mae, mean_pearson
from irbench.probes import ACCURACY_GATES, Metric, Probe, ProbeContext, ProbeOutput, register

ECE_BINS = 15  # equal-width confidence bins (Guo et al. 2017)


def calibration(logits: Tensor, y: Tensor, n_bins: int = ECE_BINS) -> tuple[float, float]:
    """(mean confidence, expected calibration error): the top-class probability's mean, and the
    image-weighted mean over confidence bins of |accuracy - confidence|."""
    conf, pred = logits.float().softmax(1).max(1)
    correct = (pred == y).float()
    bins = (conf * n_bins).long().clamp(max=n_bins - 1)
    ece = torch.zeros((), device=logits.device)
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            ece += inside.float().mean() * (correct[inside].mean() - conf[inside].mean()).abs()
    return conf.mean().item(), ece.item()


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    x, y = ctx.scored.x, ctx.scored.y
    if ctx.task == "regression":
        y = y[:, : ctx.test.meta["n_emotions"]]
        out = regression_outputs(ctx.model, x, ctx.batch_size)
        return ProbeOutput({"corr_clean": mean_pearson(out, y), "mae_clean": mae(out, y)})
    logits = logits_of(ctx.model, x, ctx.batch_size)
    confidence, ece = calibration(logits, y)
    acc = (logits.argmax(1) == y).float().mean().item()
    return ProbeOutput({"acc_clean": acc, "confidence_clean": confidence, "ece_clean": ece})


PROBE = register(
    Probe(
        key="clean",
        run=run,
        description="performance on unperturbed test inputs",
        metrics=(
            Metric("acc_clean", "percent", True, "accuracy on clean test images", ACCURACY_GATES, "clean"),
            Metric(
                "confidence_clean",
                "percent",
                None,
                "mean probability of the predicted class on clean test images",
                label="confidence, clean",
            ),
            Metric(
                "ece_clean",
                "percent",
                False,
                f"expected calibration error on clean test images ({ECE_BINS} equal-width bins)",
                label="ECE, clean",
            ),
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
