"""Dataset kinds by name: the registry behind a `datasets` entry's `kind` (one module per kind in this
package). Each kind declares its configuration schema, the folders it reads (checked before any job), the
task it poses (classification or regression) and how it prepares its splits; each configured dataset
becomes one prepared tensor file."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from irbench.data.tensors import save_dataset
from irbench.errors import IrbenchError
from irbench.registry import Registry

Splits = dict[str, dict[str, np.ndarray]]
SEED = {"type": "integer", "minimum": 0, "description": "expected a non-negative integer"}
PAPER_REFERENCE = {"type": "string", "description": "expected the name of a paper dataset"}


@dataclass(frozen=True)
class DatasetKind:
    """A registered dataset kind.

    `prepare(spec, workers)` returns the splits ({'train'|'val'|'test': {'images', 'labels', extras...}}) and
    the metadata (n_classes or the regression targets, ...); `schema` is {'properties': {...}, 'required':
    [...]} of the entry's keys besides `kind` and `paper_reference`; `folders` maps a key of the entry that
    names a folder to a description of the layout expected there.
    """

    name: str
    prepare: Callable[[Mapping[str, Any], int], tuple[Splits, dict[str, Any]]]
    description: str
    task: str = "classification"
    schema: Mapping[str, Any] = field(default_factory=dict)
    folders: Mapping[str, str] = field(default_factory=dict)


DATASETS: Registry[DatasetKind] = Registry("dataset kind", "irbench.datasets")


def register(kind: DatasetKind) -> DatasetKind:
    """Register a dataset kind under its name (called at the end of its module)."""
    return DATASETS.register(kind.name, kind)


def prepare_dataset(spec: Mapping[str, Any], output: str | os.PathLike, workers: int = 1) -> dict[str, Any]:
    """Build the dataset a `datasets` entry describes and save it to `output`; returns its metadata.
    `workers` processes compute audio features."""
    kind = DATASETS.get(spec["kind"])
    splits, meta = kind.prepare(spec, workers)
    meta = {"kind": spec["kind"], "task": kind.task, **meta}
    save_dataset(splits, meta, output)
    return meta


def check_dataset_folders(datasets: Mapping[str, Mapping[str, Any]], names: list[str]) -> None:
    """Before any job runs: every used dataset that reads a folder must find it."""
    for name in names:
        spec = datasets[name]
        for key, layout in DATASETS.get(spec["kind"]).folders.items():
            if key in spec and not Path(spec[key]).is_dir():
                raise IrbenchError(
                    f"{spec[key]}: dataset folder not found (datasets.{name}.{key}; expected {layout})"
                )
