"""How often a classifier follows the planted spurious cue where cue and label disagree (synthetic data
with `cue_labels`): 100% is a model that learned only the shortcut. Where the dataset has a separate
cue-independent test split (synthetic shapes with `p_test`: the main test split is then in-distribution),
it is measured there, with the accuracy on that split (`acc_cue_independent`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.datasets.synthetic_shapes import CUE_INDEPENDENT
from irbench.evaluation import predict
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    split = ctx.splits.get(CUE_INDEPENDENT, ctx.scored)
    cue, y = split.extras["cue_labels"], split.y
    pred = predict(ctx.model, split.x, ctx.batch_size)
    metrics = {}
    if CUE_INDEPENDENT in ctx.splits:
        metrics["acc_cue_independent"] = (pred == y).float().mean().item()
    conflict = cue != y
    if conflict.any():
        metrics["cue_following"] = (pred[conflict] == cue[conflict]).float().mean().item()
    return ProbeOutput(metrics)


PROBE = register(
    Probe(
        key="cue_following",
        run=run,
        description="predictions that follow the spurious cue where it disagrees with the label",
        task="classification",
        needs=("cue_labels",),
        metrics=(
            Metric(
                "cue_following",
                "percent",
                False,
                "test images where cue and label disagree that are classified as the cue says",
                label="follows the cue",
            ),
            Metric(
                "acc_cue_independent",
                "percent",
                True,
                "accuracy on the test split whose cue is independent of the label",
                label="cue-independent",
            ),
        ),
    )
)
