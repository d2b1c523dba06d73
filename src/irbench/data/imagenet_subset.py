"""An ImageNet subset ("Small ImageNet 150") from the usual class-folder layout.

`root/train/<class>/*` and `root/val/<class>/*`: a seeded choice of `n_classes` classes, a seeded choice
of `n_train` training and `n_val` validation images per class, each resized to `image_size` px and
returned as uint8 arrays (the prepared file is the tensor cache). An extra test folder in the same
layout (the paper used ImageNetV2 "top images") is loaded as the `extra_test` split when given.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from irbench.errors import IrbenchError

EXTENSIONS = {".jpeg", ".jpg", ".png", ".bmp", ".webp"}


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in EXTENSIONS)


def _read(path: Path, size: int) -> np.ndarray:
    """One image as uint8 (3, size, size), with a one-line error naming an unreadable file."""
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)
    except Exception as exc:  # noqa: BLE001 - PIL raises many types for broken files
        raise IrbenchError(f"{path}: cannot be read as an image ({type(exc).__name__})") from exc


def _split(
    folder: Path, classes: list[str], n_per_class: int, size: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """A seeded choice of n_per_class images from each class folder, read in a thread pool."""
    paths, labels = [], []
    for label, name in enumerate(classes):
        cls_dir = folder / name
        if not cls_dir.is_dir():
            raise IrbenchError(f"{cls_dir}: class folder not found")
        files = _images(cls_dir)
        if len(files) < n_per_class:
            raise IrbenchError(f"{cls_dir}: expected at least {n_per_class} images, found {len(files)}")
        pick = rng.choice(len(files), size=n_per_class, replace=False)
        paths += [files[i] for i in sorted(pick)]
        labels += [label] * n_per_class
    with ThreadPoolExecutor() as pool:
        images = list(pool.map(lambda p: _read(p, size), paths))
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
) -> tuple[dict[str, dict[str, np.ndarray]], list[str]]:
    """Splits `train`, `test` (the chosen validation images) and optionally `extra_test`; class names."""
    root = Path(root)
    train_dir, val_dir = root / "train", root / "val"
    for d in (train_dir, val_dir):
        if not d.is_dir():
            raise IrbenchError(f"{d}: folder not found (expected the ImageNet class-folder layout)")
    available = sorted(p.name for p in train_dir.iterdir() if p.is_dir())
    if len(available) < n_classes:
        raise IrbenchError(f"{train_dir}: expected at least {n_classes} class folders, found {len(available)}")
    rng = np.random.default_rng(seed)
    classes = sorted(available[i] for i in rng.choice(len(available), size=n_classes, replace=False))
    splits = {
        "train": _split(train_dir, classes, n_train, image_size, rng),
        "test": _split(val_dir, classes, n_val, image_size, rng),
    }
    if test_root is not None:
        test_dir = Path(test_root)
        if not test_dir.is_dir():
            raise IrbenchError(f"{test_dir}: extra test folder not found")
        counts = [len(_images(test_dir / c)) if (test_dir / c).is_dir() else 0 for c in classes]
        splits["extra_test"] = _split(test_dir, classes, max(1, min(counts)), image_size, rng)
    return splits, classes
