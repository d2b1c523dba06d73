"""Synthetic shapes: images whose class is carried by an object and a planted spurious cue, with both masks
saved so attributions can be scored against ground truth (irbench.data.synthetic_shapes)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.data import synthetic_shapes
from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, DatasetSize, Splits, register

POSITIVE = {"$ref": "#/$defs/positive_int"}


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    splits = synthetic_shapes.generate(
        n_train=spec["n_train"],
        n_test=spec["n_test"],
        n_classes=spec["n_classes"],
        image_size=spec["image_size"],
        p_train=spec["p_train"],
        seed=spec["seed"],
        nonrobust_l2=spec["nonrobust_l2"],
        faint_fraction=spec["faint_fraction"],
        p_test=spec.get("p_test"),
    )
    meta = {
        "n_classes": spec["n_classes"],
        "image_size": spec["image_size"],
        "class_names": list(synthetic_shapes.SHAPES[: spec["n_classes"]]),
        "p_train": spec["p_train"],
        "nonrobust_l2": spec["nonrobust_l2"],
        "faint_fraction": spec["faint_fraction"],
        "p_test": spec.get("p_test"),
    }
    return splits, meta


KIND = register(
    DatasetKind(
        "synthetic_shapes",
        prepare,
        "generated shapes with a planted spurious cue (object and cue masks saved)",
        size=lambda s: DatasetSize(s["n_train"], (3, s["image_size"], s["image_size"]), s["n_classes"]),
        synthetic=True,
        schema={
            "required": [
                "n_train",
                "n_test",
                "n_classes",
                "image_size",
                "p_train",
                "nonrobust_l2",
                "faint_fraction",
                "seed",
            ],
            "properties": {
                "n_train": POSITIVE,
                "n_test": POSITIVE,
                "n_classes": {
                    "type": "integer",
                    "minimum": 2,
                    "maximum": 10,
                    "description": "expected an integer in 2..10",
                },
                "image_size": {"type": "integer", "minimum": 16, "description": "expected an integer >= 16"},
                "p_train": {"$ref": "#/$defs/probability"},
                "nonrobust_l2": {
                    "type": "number",
                    "minimum": 0,
                    "description": "expected a non-negative number",
                },
                "faint_fraction": {"$ref": "#/$defs/probability"},
                "p_test": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": 1,
                    "description": "expected a probability or null (cue independent of the label)",
                },
                "seed": SEED,
                "paper_reference": PAPER_REFERENCE,
            },
        },
    )
)
