"""Accuracy on corrupted test images (CIFAR-10-C's 15 corruptions x 5 severities, released or generated
by the `corrupt_dataset` rule): per corruption and severity in the record, their mean as the metric.
Draws the corruption-by-severity heatmap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from irbench.evaluation import corruption_accuracy
from irbench.io import load_torch
from irbench.probes import ACCURACY_GATES, Figure, Metric, Probe, ProbeContext, ProbeOutput, register

NAMES = [
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
    "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
]  # fmt: skip


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    corrupted = load_torch(ctx.inputs["corruptions"])
    table, flat = corruption_accuracy(ctx.model, corrupted, ctx.device, ctx.batch_size)
    return ProbeOutput(flat, data=table)


def draw(records: Sequence[Mapping[str, Any]], output: str, title: str, spec: Mapping[str, Any]) -> None:
    from irbench.figures import corruption_heatmap

    corruption_heatmap(records, output, title)


PROBE = register(
    Probe(
        key="corruptions",
        run=run,
        description="accuracy on corrupted test images",
        task="classification",
        inputs={"corruptions": "results/{study}/data/{dataset}.corrupt.pt"},
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["names", "severities", "n_images"],
            "properties": {
                "names": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "enum": NAMES,
                        "description": "expected one of the 15 CIFAR-10-C corruption names",
                    },
                },
                "severities": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 5,
                        "description": "expected a severity in 1..5",
                    },
                },
                "n_images": {"$ref": "#/$defs/positive_int"},
                "released": {
                    "type": "string",
                    "description": "expected the CIFAR-10-C folder (<corruption>.npy, labels.npy)",
                },
            },
        },
        metrics=(
            Metric(
                "acc_corrupt_mean",
                "percent",
                True,
                "accuracy over every corruption and severity (mean)",
                ACCURACY_GATES,
                label="corruptions (mean)",
            ),
        ),
        figures=(
            Figure(
                kind="corruptions",
                per_seed=False,
                draw=draw,
                title="",
                caption=(
                    "Accuracy of every {study} variant on {dataset}'s test images under each CIFAR-10-C "
                    "corruption (rows) at each severity (columns), mean over seeds: the released "
                    "CIFAR-10-C files where `evaluate.corruptions.released` names them, else corruptions "
                    "generated from the test split with the benchmark's CIFAR severity constants."
                ),
            ),
        ),
    )
)
