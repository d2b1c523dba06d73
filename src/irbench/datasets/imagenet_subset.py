"""An ImageNet class subset (Small ImageNet 150): ImageNet's train/ and val/ class folders, resized."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.data.imagenet_subset import load_imagenet_subset
from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, DatasetSize, Splits, register

POSITIVE = {"$ref": "#/$defs/positive_int"}


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    splits, names = load_imagenet_subset(
        spec["root"],
        n_classes=spec["n_classes"],
        n_train=spec["n_train"],
        n_val=spec["n_val"],
        image_size=spec["image_size"],
        seed=spec["seed"],
        test_root=spec.get("test_root"),
        val_labels=spec.get("val_labels"),
        resize_to=spec.get("resize_to"),
    )
    return splits, {"n_classes": len(names), "image_size": spec["image_size"], "class_names": names}


def size(spec: Mapping[str, Any]) -> DatasetSize:
    """n_train images of each of n_classes, image_size px."""
    side = spec["image_size"]
    return DatasetSize(spec["n_classes"] * spec["n_train"], (3, side, side), spec["n_classes"])


KIND = register(
    DatasetKind(
        "imagenet_subset",
        prepare,
        "a class subset of ImageNet's folders",
        size=lambda s: DatasetSize(
            s["n_classes"] * s["n_train"], (3, s["image_size"], s["image_size"]), s["n_classes"]
        ),
        folders={"root": "the imagenet_subset layout", "test_root": "the imagenet_subset layout"},
        schema={
            "required": ["root", "n_classes", "n_train", "n_val", "image_size", "seed"],
            "properties": {
                "root": {
                    "type": "string",
                    "description": "expected the folder holding train/ and val/ class folders",
                },
                "test_root": {
                    "type": "string",
                    "description": "expected an extra test folder (wnid or ImageNetV2's numeric folders)",
                },
                "val_labels": {
                    "type": "string",
                    "description": "expected the CSV of a flat val/ folder's classes (file, wnid)",
                },
                "resize_to": {
                    "type": "integer",
                    "minimum": 16,
                    "description": "expected the shorter side's length before the centre crop",
                },
                "n_classes": POSITIVE,
                "n_train": POSITIVE,
                "n_val": POSITIVE,
                "image_size": {"type": "integer", "minimum": 16, "description": "expected an integer >= 16"},
                "seed": SEED,
                "paper_reference": PAPER_REFERENCE,
            },
        },
    )
)
