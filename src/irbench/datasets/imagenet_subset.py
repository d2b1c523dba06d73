"""An ImageNet subset ("Small ImageNet 150") from ImageNet's folders, in the layouts it is distributed in.

`root/train/<wnid>/*`: a seeded choice of `n_classes` classes (the paper's list is not published: its
notebook downloads it from a private drive), a seeded choice of `n_train` training and `n_val` validation
images per class, each resized with its aspect kept (shorter side to `resize_to`) and centre-cropped to
`image_size` px, as torchvision's Resize + CenterCrop do; returned as uint8 arrays (the prepared file is
the tensor cache). The validation folder is either class folders (`val/<wnid>/`) or ILSVRC's stock flat
`val/` with its labels in a CSV (`val_labels`: Kaggle's LOC_val_solution.csv, or any `file,wnid` CSV).
An extra test folder (the paper used ImageNetV2) is loaded as the `extra_test` split when given: wnid
folders, or ImageNetV2's numeric folders `0..999`, the index in the sorted list of ImageNet's 1,000 wnids.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, DatasetSize, Splits, register
from irbench.errors import IrbenchError

EXTENSIONS = {".jpeg", ".jpg", ".png", ".bmp", ".webp"}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)


def _read(path: Path, size: int, resize_to: int | None = None) -> np.ndarray:
    """One image as uint8 (3, size, size): the shorter side resized to `resize_to` (default `size`) with the
    aspect kept, then the centre `size` x `size` crop; a one-line error names an unreadable file."""
    short = resize_to or size
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            scale = short / min(w, h)
            nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
            im = im.resize((nw, nh), Image.BILINEAR)
            left, top = int(round((nw - size) / 2.0)), int(round((nh - size) / 2.0))
            im = im.crop((left, top, left + size, top + size))
            return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise IrbenchError(f"{path}: cannot be read as an image ({type(exc).__name__})") from exc


def _by_folder(folder: Path, classes: list[str], all_classes: list[str]) -> dict[str, list[Path]]:
    """The images of each class in a folder of class folders: named by wnid, or ImageNetV2's numeric
    `0..999` (the index among ImageNet's 1,000 sorted wnids, which `all_classes` must then be)."""
    digits = any(p.is_dir() and p.name.isdigit() for p in folder.iterdir())
    numeric = digits and not (folder / classes[0]).is_dir()
    if numeric and len(all_classes) != 1000:
        raise IrbenchError(
            f"{folder}: numeric class folders (ImageNetV2's 0..999) are ImageNet's class indices; mapping "
            f"them needs all 1,000 class folders in train/ (found {len(all_classes)})"
        )
    out = {}
    for name in classes:
        cls_dir = folder / (str(all_classes.index(name)) if numeric else name)
        if not cls_dir.is_dir():
            raise IrbenchError(f"{cls_dir}: class folder not found (class {name})")
        out[name] = _images(cls_dir)
    return out


def _by_csv(folder: Path, labels: Path, classes: list[str]) -> dict[str, list[Path]]:
    """The images of each class in a flat folder, their classes read from a CSV: the first column the file
    (with or without its extension), the first word of the second column the wnid."""
    if not labels.is_file():
        raise IrbenchError(f"{labels}: labels file not found (the flat val/ folder's classes)")
    files = {p.stem: p for p in _images(folder)}
    out: dict[str, list[Path]] = {name: [] for name in classes}
    with labels.open(newline="") as f:
        for row in csv.reader(f):
            if len(row) < 2 or not row[1].split():
                continue
            stem, wnid = Path(row[0]).stem, row[1].split()[0]
            if wnid in out and stem in files:
                out[wnid].append(files[stem])
    return {name: sorted(paths) for name, paths in out.items()}


def _split(
    files: dict[str, list[Path]],
    folder: Path,
    n_per_class: int,
    size: int,
    resize_to: int | None,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """A seeded choice of n_per_class images of each class, read in a thread pool."""
    paths, labels = [], []
    for label, (name, found) in enumerate(files.items()):
        if len(found) < n_per_class:
            raise IrbenchError(
                f"{folder}: expected at least {n_per_class} images of {name}, found {len(found)}"
            )
        pick = rng.choice(len(found), size=n_per_class, replace=False)
        paths += [found[i] for i in sorted(pick)]
        labels += [label] * n_per_class
    with ThreadPoolExecutor() as pool:
        images = list(pool.map(lambda p: _read(p, size, resize_to), paths))
    return {"images": np.stack(images), "labels": np.asarray(labels, dtype=np.int64)}


def load_imagenet_subset(
    root: str | Path,
    *,
    n_classes: int,
    n_train: int,
    n_val: int,
    image_size: int,
    seed: int,
    test_root: str | Path | None = None,
    val_labels: str | Path | None = None,
    resize_to: int | None = None,
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Splits `train`, `test` (the chosen validation images) and optionally `extra_test`; class names."""
    root = Path(root)
    train_dir, val_dir = root / "train", root / "val"
    for d in (train_dir, val_dir):
        if not d.is_dir():
            raise IrbenchError(f"{d}: folder not found (expected ImageNet's train/ and val/)")
    available = sorted(p.name for p in train_dir.iterdir() if p.is_dir())
    if len(available) < n_classes:
        raise IrbenchError(
            f"{train_dir}: expected at least {n_classes} class folders, found {len(available)}"
        )
    rng = np.random.default_rng(seed)
    classes = sorted(available[i] for i in rng.choice(len(available), size=n_classes, replace=False))
    flat = not any(p.is_dir() for p in val_dir.iterdir())
    if flat and val_labels is None:
        raise IrbenchError(
            f"{val_dir}: a flat folder of images (ILSVRC's stock val/): name its labels CSV in the dataset's "
            "'val_labels' key (Kaggle's LOC_val_solution.csv, or a file,wnid CSV)"
        )
    val = _by_csv(val_dir, Path(val_labels), classes) if flat else _by_folder(val_dir, classes, available)
    splits = {
        "train": _split(
            _by_folder(train_dir, classes, available), train_dir, n_train, image_size, resize_to, rng
        ),
        "test": _split(val, val_dir, n_val, image_size, resize_to, rng),
    }
    if test_root is not None:
        test_dir = Path(test_root)
        if not test_dir.is_dir():
            raise IrbenchError(f"{test_dir}: extra test folder not found")
        extra = _by_folder(test_dir, classes, available)
        n = max(1, min(len(v) for v in extra.values()))
        splits["extra_test"] = _split(extra, test_dir, n, image_size, resize_to, rng)
    return splits, classes


# --- the dataset kind: its registration ---

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
        size=size,
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
