"""CIFAR-10 and CIFAR-100 in the published python pickle layout (checked for structure, not md5)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from irbench.data.cifar import PUBLISHED_MD5, load_cifar, used_files
from irbench.datasets import PAPER_REFERENCE, DatasetKind, DatasetSize, Splits, register


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    splits, names = load_cifar(spec["root"], spec["kind"], spec.get("train_files"))
    return splits, {"n_classes": len(names), "image_size": 32, "class_names": names}


def check(spec: Mapping[str, Any]) -> None:
    """Before any job: every batch the entry reads is there and whole (the same reading as `prepare`)."""
    load_cifar(spec["root"], spec["kind"], spec.get("train_files"))


def size(spec: Mapping[str, Any]) -> DatasetSize:
    """50,000 training images of 32 px (10,000 per batch used), 10 or 100 classes."""
    per_file = 10_000 if spec["kind"] == "cifar10" else 50_000
    n_files = len(spec.get("train_files") or ([1] * (5 if spec["kind"] == "cifar10" else 1)))
    return DatasetSize(per_file * n_files, (3, 32, 32), 10 if spec["kind"] == "cifar10" else 100)


def checksums(spec: Mapping[str, Any]) -> dict[str, str]:
    """The published md5 of each file the entry reads."""
    published = PUBLISHED_MD5[spec["kind"]]
    names = used_files(spec["kind"], spec.get("train_files"))
    return {str(Path(spec["root"]) / n): published[n] for n in names if n in published}


SCHEMA = {
    "required": ["root"],
    "properties": {
        "root": {"type": "string", "description": "expected the path of the python pickle folder"},
        "train_files": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "string"},
            "description": "expected a list of training batch file names",
        },
        "paper_reference": PAPER_REFERENCE,
    },
}
for _name in ("cifar10", "cifar100"):
    register(
        DatasetKind(
            _name,
            prepare,
            f"{_name} python pickles",
            schema=SCHEMA,
            folders={"root": f"the {_name} layout"},
            check=check,
            checksums=checksums,
            size=size,
        )
    )
