"""Dataset preparation by kind: each configured dataset entry becomes one prepared tensor file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from irbench.data import synthetic_shapes
from irbench.data.cifar import load_cifar
from irbench.data.imagenet_subset import load_imagenet_subset
from irbench.data.tensors import save_dataset
from irbench.errors import IrbenchError

# The folders each dataset kind reads, checked before any job runs: {kind: {key: layout}}.
FOLDER_KEYS = {
    "cifar10": {"root": "the cifar10 layout"},
    "cifar100": {"root": "the cifar100 layout"},
    "imagenet_subset": {"root": "the imagenet_subset layout", "test_root": "the imagenet_subset layout"},
    "soundtracks": {
        "root": "Soundtracks Set 1: mean_ratings_set1.csv beside 001.mp3 ... 360.mp3",
        "audio_dir": "the Soundtracks audio files",
        "midlevel_root": "the Mid-level dataset: metadata.csv, the annotations CSV and audio/",
    },
}


def prepare_dataset(spec: Mapping[str, Any], output: str | os.PathLike, workers: int = 1) -> dict[str, Any]:
    """Build the dataset a `datasets` entry describes and save it to `output`; returns its metadata.
    `workers` processes compute audio features."""
    kind = spec["kind"]
    if kind == "synthetic_shapes":
        splits = synthetic_shapes.generate(
            n_train=spec["n_train"],
            n_test=spec["n_test"],
            n_classes=spec["n_classes"],
            image_size=spec["image_size"],
            p_train=spec["p_train"],
            seed=spec["seed"],
            nonrobust_l2=spec["nonrobust_l2"],
            faint_fraction=spec["faint_fraction"],
        )
        meta = {
            "kind": kind,
            "n_classes": spec["n_classes"],
            "image_size": spec["image_size"],
            "class_names": list(synthetic_shapes.SHAPES[: spec["n_classes"]]),
            "p_train": spec["p_train"],
            "nonrobust_l2": spec["nonrobust_l2"],
            "faint_fraction": spec["faint_fraction"],
        }
    elif kind in ("cifar10", "cifar100"):
        splits, names = load_cifar(spec["root"], kind, spec.get("train_files"))
        meta = {"kind": kind, "n_classes": len(names), "image_size": 32, "class_names": names}
    elif kind == "imagenet_subset":
        splits, names = load_imagenet_subset(
            spec["root"],
            n_classes=spec["n_classes"],
            n_train=spec["n_train"],
            n_val=spec["n_val"],
            image_size=spec["image_size"],
            seed=spec["seed"],
            test_root=spec.get("test_root"),
        )
        meta = {"kind": kind, "n_classes": len(names), "image_size": spec["image_size"], "class_names": names}
    elif kind == "synthetic_mer":
        from irbench.audio.synthetic import EMOTIONS, MID_LEVEL, synthetic_mer
        from irbench.data.mer import mer_splits

        clips = synthetic_mer(
            spec["n_clips"],
            seed=spec["seed"],
            noise=spec["noise"],
            n_frames=spec["n_frames"],
            workers=workers,
        )
        splits, stats = mer_splits(
            clips["spectrograms"],
            clips["emotions"],
            clips["mid_level"],
            seed=spec["seed"],
            extras={"attributes": clips["attributes"].astype(np.float32)},
        )
        meta = {
            "kind": kind,
            "task": "regression",
            "targets": [*EMOTIONS, *MID_LEVEL],
            "n_emotions": 8,
            **stats,
        }
    elif kind == "soundtracks":
        from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
        from irbench.data.mer import soundtracks_splits

        splits, stats = soundtracks_splits(spec, workers)
        meta = {
            "kind": kind,
            "task": "regression",
            "targets": [*EMOTIONS, *MID_LEVEL],
            "n_emotions": 8,
            "midlevel_targets": spec["midlevel_targets"],
            **stats,
        }
    else:
        raise ValueError(f"unknown dataset kind {kind!r}")
    save_dataset(splits, meta, output)
    return meta


def check_dataset_folders(datasets: Mapping[str, Mapping[str, Any]], names: list[str]) -> None:
    """Before any job runs: every used dataset that reads a folder must find it."""
    for name in names:
        spec = datasets[name]
        for key, layout in FOLDER_KEYS.get(spec["kind"], {}).items():
            if key in spec and not Path(spec[key]).is_dir():
                raise IrbenchError(
                    f"{spec[key]}: dataset folder not found (datasets.{name}.{key}; expected {layout})"
                )
