"""SVHN (cropped digits, Netzer et al. 2011) from its published MATLAB files: `train_32x32.mat` and
`test_32x32.mat` in `root`, each with X (32, 32, 3, N) uint8 and y (N, 1) in 1..10 (10 is the digit 0).
The files are checked for keys, dtype and shape; a bad one gives a one-line error naming it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from irbench.datasets import PAPER_REFERENCE, DatasetKind, DatasetSize, Splits, register
from irbench.errors import IrbenchError


def read_split(path: Path) -> dict[str, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels 0..9 of one SVHN .mat file."""
    from scipy.io import loadmat

    if not path.is_file():
        raise IrbenchError(f"{path}: file not found (expected SVHN's train_32x32.mat and test_32x32.mat)")
    try:
        mat = loadmat(path)
    except Exception as exc:  # noqa: BLE001 - truncated or foreign files fail in many ways
        raise IrbenchError(f"{path}: cannot be read as a MATLAB file ({type(exc).__name__})") from exc
    x, y = mat.get("X"), mat.get("y")
    if x is None or y is None or x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise IrbenchError(f"{path}: expected X uint8 of shape (32, 32, 3, N) and y of shape (N, 1)")
    labels = y.reshape(-1).astype(np.int64) % 10
    if len(labels) != x.shape[3]:
        raise IrbenchError(f"{path}: X holds {x.shape[3]} images but y {len(labels)} labels")
    return {"images": np.ascontiguousarray(x.transpose(3, 2, 0, 1)), "labels": labels}


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    root = Path(spec["root"])
    splits = {name: read_split(root / f"{name}_32x32.mat") for name in ("train", "test")}
    return splits, {"n_classes": 10, "image_size": 32, "class_names": [str(d) for d in range(10)]}


KIND = register(
    DatasetKind(
        "svhn",
        prepare,
        "SVHN cropped digits (MATLAB files)",
        size=lambda s: DatasetSize(73257, (3, 32, 32), 10),
        folders={"root": "SVHN's train_32x32.mat and test_32x32.mat"},
        schema={
            "required": ["root"],
            "properties": {
                "root": {
                    "type": "string",
                    "description": "expected the SVHN folder (train_32x32.mat, test_32x32.mat)",
                },
                "paper_reference": PAPER_REFERENCE,
            },
        },
    )
)
