"""LIME explanations (true class, batched, lime's own sampling and surrogate) of the same seeded test
images for every variant: the gallery figure's data. Writes no metric: the LIME study's flag scores come
from the refinement's training record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from irbench.explain.lime_batch import explain_batch
from irbench.probes import Figure, Probe, ProbeContext, ProbeOutput, register
from irbench.probes.attributions import draw  # the same side-by-side grid, LIME maps drawn red/blue


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    order = torch.randperm(len(ctx.test), generator=torch.Generator().manual_seed(ctx.seed))
    shown = ctx.test.subset(order[: spec["n_images"]])
    labels = [[int(v)] for v in shown.y]
    exps = explain_batch(
        ctx.model,
        shown.x.to(ctx.device),
        labels,
        num_samples=spec["num_samples"],
        batch_size=spec["batch_size"],
        segmentation=spec.get("segmentation"),
        seed=ctx.seed,
    )
    maps = torch.stack(
        [torch.from_numpy(e.pixel_map(lab[0])).float() for e, lab in zip(exps, labels, strict=True)]
    )
    artifacts = {
        "images": shown.x.cpu(),
        "labels": shown.y.cpu(),
        "preds": torch.tensor([int(e.probs.argmax()) for e in exps]),
        "class_names": list(ctx.test.meta.get("class_names", [])),
        "methods": ["lime"],
        "lime": maps[:, None],
        "segments": torch.stack([torch.from_numpy(e.segments) for e in exps]),
        "variant": ctx.variant,
        "seed": ctx.seed,
    }
    return ProbeOutput(artifacts=artifacts)


PROBE = register(
    Probe(
        key="lime",
        run=run,
        description="LIME explanation gallery",
        task="classification",
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["n_images", "num_samples", "batch_size"],
            "properties": {
                "n_images": {"$ref": "#/$defs/positive_int"},
                "num_samples": {"type": "integer", "minimum": 10, "description": "expected an integer >= 10"},
                "batch_size": {"$ref": "#/$defs/positive_int"},
                "segmentation": {"$ref": "#/$defs/segmentation"},
            },
        },
        metrics=(),
        figures=(
            Figure(
                kind="attributions",
                per_seed=True,
                draw=draw,
                title="LIME, superpixel weights for the true class",
                caption=(
                    "LIME explanations of every variant on the same test images: per image row, the "
                    "image, then each model's superpixel weights for the true class (red for, blue "
                    "against)."
                ),
            ),
        ),
    )
)
