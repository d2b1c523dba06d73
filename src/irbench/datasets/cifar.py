"""CIFAR-10 and CIFAR-100 from a local folder in the original python pickle layout.

The files are checked for existence and structure (keys, dtype, shape), not for their md5: a partial or
rebuilt copy loads, while a missing or truncated file gives a one-line error naming it.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from irbench.datasets import PAPER_REFERENCE, DatasetKind, DatasetSize, Splits, register
from irbench.errors import IrbenchError

LAYOUTS = {
    # kind: (default train files, test file, meta file, label key, class-name key)
    "cifar10": (
        tuple(f"data_batch_{i}" for i in range(1, 6)),
        "test_batch",
        "batches.meta",
        "labels",
        "label_names",
    ),
    "cifar100": (("train",), "test", "meta", "fine_labels", "fine_label_names"),
}

# The md5s the datasets' page publishes for each file of the python archives (torchvision checks these).
PUBLISHED_MD5 = {
    "cifar10": {
        "data_batch_1": "c99cafc152244af753f735de768cd75f",
        "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
        "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
        "data_batch_4": "634d18415352ddfa80567beed471001a",
        "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
        "test_batch": "40351d587109b95175f43aff81a1287e",
        "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
    },
    "cifar100": {
        "train": "16019d7e3df5f24257cddd939b257f8d",
        "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
        "meta": "7973b15100ade9c7d40fb424638fde48",
    },
}


def used_files(kind: str, train_files: Sequence[str] | None = None) -> list[str]:
    """The file names a copy is read from: the training batches used, the test batch and the meta file."""
    default_train, test_file, meta_file, _, _ = LAYOUTS[kind]
    return [*(train_files or default_train), test_file, meta_file]


def _unpickle(path: Path) -> dict[str, Any]:
    """Read one pickle file with a one-line error naming it if it is missing or unreadable."""
    if not path.is_file():
        raise IrbenchError(f"{path}: file not found (expected the CIFAR python pickle layout)")
    try:
        with path.open("rb") as f:
            return pickle.load(f, encoding="latin1")
    except Exception as exc:  # noqa: BLE001 - truncated or foreign files fail in many ways
        raise IrbenchError(f"{path}: cannot be read as a CIFAR pickle ({type(exc).__name__})") from exc


def _batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and int64 labels from one batch file, after checking its structure."""
    d = _unpickle(path)
    if not isinstance(d, dict) or "data" not in d or label_key not in d:
        raise IrbenchError(f"{path}: expected a dict with 'data' and '{label_key}'")
    data = np.asarray(d["data"])
    labels = np.asarray(d[label_key], dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise IrbenchError(
            f"{path}: expected 'data' uint8 of shape (N, 3072) and N labels, "
            f"got {data.dtype} {data.shape} and {len(labels)} labels"
        )
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar(
    root: str | Path, kind: str = "cifar10", train_files: Sequence[str] | None = None
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Train and test splits ({'images', 'labels'}) and the class names of a local CIFAR copy."""
    if kind not in LAYOUTS:
        raise ValueError(f"kind must be one of {sorted(LAYOUTS)}, got {kind!r}")
    root = Path(root)
    if not root.is_dir():
        raise IrbenchError(f"{root}: dataset folder not found (expected the {kind} python pickle folder)")
    default_train, test_file, meta_file, label_key, names_key = LAYOUTS[kind]
    missing = [name for name in (train_files or default_train) if not (root / name).is_file()]
    if missing:
        raise IrbenchError(
            f"{root / missing[0]}: file not found (a partial copy: list the training batches you have in "
            f"the dataset's 'train_files' key, e.g. train_files: [data_batch_1]; "
            f"default {list(default_train)})"
        )
    parts = [_batch(root / name, label_key) for name in (train_files or default_train)]
    test_x, test_y = _batch(root / test_file, label_key)
    meta = _unpickle(root / meta_file)
    names = list(meta.get(names_key, [])) if isinstance(meta, dict) else []
    n_classes = int(max(test_y.max(), max(p[1].max() for p in parts)) + 1)
    if len(names) < n_classes:
        raise IrbenchError(f"{root / meta_file}: expected '{names_key}' with {n_classes} class names")
    train = {
        "images": np.concatenate([p[0] for p in parts]),
        "labels": np.concatenate([p[1] for p in parts]),
    }
    return {"train": train, "test": {"images": test_x, "labels": test_y}}, names


# --- the dataset kind: its registration ---


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
