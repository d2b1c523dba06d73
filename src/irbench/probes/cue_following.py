"""How often a classifier follows the planted spurious cue where cue and label disagree (synthetic data
with `cue_labels`): 100% is a model that learned only the shortcut."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.evaluation import predict
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    cue, y = ctx.scored.extras["cue_labels"], ctx.scored.y
    conflict = cue != y
    if not conflict.any():
        return ProbeOutput()
    pred = predict(ctx.model, ctx.scored.x, ctx.batch_size)[conflict]
    return ProbeOutput({"cue_following": (pred == cue[conflict]).float().mean().item()})


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
            ),
        ),
    )
)
