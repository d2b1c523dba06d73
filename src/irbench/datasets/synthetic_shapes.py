"""Synthetic spurious-cue images: the class is carried by a shape, a coloured corner patch is a shortcut.

Each image shows one object (a class-specific shape with random position, size and colour) on a
textured background, plus a small coloured patch in a random corner whose colour encodes a "cue label".
In the training split the cue label equals the true label with probability `p_train`; in the test split it
is drawn independently of the label. Object and cue masks are returned so attributions can be scored
against ground truth. Optionally every image also carries a faint class-specific noise pattern of L2 norm
`nonrobust_l2` (a "non-robust feature" in the sense of Ilyas et al. 2019): predictive in both splits, but
erased by any perturbation of that size, so only a non-robust model can profit from it; a fraction
`faint_fraction` of objects is drawn with barely any contrast, so that on those images the non-robust
pattern is the only usable signal (this is what makes robustness cost clean accuracy, as on real data).
Fully vectorised in NumPy: no per-image Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, DatasetSize, Splits, register

SHAPES = (
    "disk",
    "square",
    "triangle",
    "ring",
    "plus",
    "cross",
    "hbar",
    "diamond",
    "frame",
    "vbar",
)
CUE_INDEPENDENT = "test_cue_independent"  # the extra test split where the cue is independent of the label
# Ten well-separated cue colours (RGB in [0, 1]); cue label k is painted with CUE_COLOURS[k].
CUE_COLOURS = np.array(
    [
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
        [1.0, 1.0, 0.0],
        [1.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 0.5, 0.0],
        [0.5, 0.0, 1.0],
        [1.0, 1.0, 1.0],
        [0.0, 0.0, 0.0],
    ],
    dtype=np.float32,
)
CUE_SIZE = 4


@dataclass(frozen=True)
class ShapesSplit:
    """One split: uint8 images (N, 3, H, W), labels, cue labels, and boolean object/cue masks (N, H, W)."""

    images: np.ndarray
    labels: np.ndarray
    cue_labels: np.ndarray
    object_mask: np.ndarray
    cue_mask: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The split as a plain dict of arrays (what gets saved)."""
        return {
            "images": self.images,
            "labels": self.labels,
            "cue_labels": self.cue_labels,
            "object_mask": self.object_mask,
            "cue_mask": self.cue_mask,
        }


def _shape_masks(shape: str, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Boolean mask of `shape` for offsets dx, dy (N, H, W) from the centre and radius r (N, 1, 1)."""
    ax, ay = np.abs(dx), np.abs(dy)
    thick = r / 3.0
    if shape == "disk":
        return dx**2 + dy**2 <= r**2
    if shape == "square":
        return np.maximum(ax, ay) <= r * 0.8
    if shape == "triangle":
        return (dy <= r * 0.8) & (dy >= -r) & (ax <= (dy + r) * 0.55)
    if shape == "ring":
        d2 = dx**2 + dy**2
        return (d2 <= r**2) & (d2 >= (0.5 * r) ** 2)
    if shape == "plus":
        return ((ax <= thick) & (ay <= r)) | ((ay <= thick) & (ax <= r))
    if shape == "cross":
        return (np.abs(ax - ay) <= thick * 0.8) & (np.maximum(ax, ay) <= r * 0.85)
    if shape == "hbar":
        return (ay <= thick) & (ax <= r)
    if shape == "diamond":
        return ax + ay <= r
    if shape == "frame":
        m = np.maximum(ax, ay)
        return (m <= r * 0.85) & (m >= r * 0.45)
    if shape == "vbar":
        return (ax <= thick) & (ay <= r)
    raise ValueError(f"unknown shape {shape!r}")


def _cue_labels(rng: np.random.Generator, labels: np.ndarray, n_classes: int, p_agree: float | None):
    """Cue labels equal to `labels` with probability p_agree, else another class uniformly.

    With p_agree None the cue is drawn uniformly, independent of the label (the test split).
    """
    n = labels.shape[0]
    if p_agree is None:
        return rng.integers(0, n_classes, size=n)
    other = (labels + rng.integers(1, n_classes, size=n)) % n_classes
    agree = rng.random(n) < p_agree
    return np.where(agree, labels, other)


def nonrobust_patterns(n_classes: int, image_size: int, l2: float) -> np.ndarray:
    """Fixed (class, 3, H, W) +-1 noise patterns scaled to L2 norm `l2`; the same for every split."""
    rng = np.random.default_rng(20230704 + image_size)
    signs = np.sign(rng.standard_normal((len(SHAPES), 3, image_size, image_size))).astype(np.float32)
    return signs[:n_classes] * (l2 / np.sqrt(signs[0].size))


def generate_split(
    n: int,
    *,
    n_classes: int,
    image_size: int,
    p_agree: float | None,
    seed: int | np.random.SeedSequence,
    nonrobust_l2: float = 0.0,
    faint_fraction: float = 0.0,
) -> ShapesSplit:
    """Generate one split of `n` images deterministically from `seed`."""
    rng = np.random.default_rng(seed)
    h = w = image_size
    labels = rng.integers(0, n_classes, size=n)
    cue = _cue_labels(rng, labels, n_classes, p_agree)

    # Textured background: base colour plus an oriented sinusoidal grating and pixel noise.
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    base = rng.uniform(0.15, 0.85, size=(n, 3, 1, 1)).astype(np.float32)
    theta = rng.uniform(0, np.pi, size=(n, 1, 1)).astype(np.float32)
    freq = rng.uniform(0.3, 1.2, size=(n, 1, 1)).astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1)).astype(np.float32)
    amp = rng.uniform(0.03, 0.15, size=(n, 1, 1, 1)).astype(np.float32)
    grating = np.sin(freq * (xx * np.cos(theta) + yy * np.sin(theta)) + phase)[:, None]
    img = base + amp * grating + rng.normal(0, 0.03, size=(n, 3, h, w)).astype(np.float32)

    # Object: class shape at a random centre and size, in a random colour that differs from the
    # background enough to be visible.
    r = rng.uniform(0.18 * h, 0.3 * h, size=(n, 1, 1)).astype(np.float32)
    margin = r[:, 0, 0] + 1
    cx = rng.uniform(margin, w - 1 - margin).astype(np.float32)[:, None, None]
    cy = rng.uniform(margin, h - 1 - margin).astype(np.float32)[:, None, None]
    dx, dy = xx[None] - cx, yy[None] - cy
    obj_mask = np.zeros((n, h, w), dtype=bool)
    for k in range(n_classes):
        idx = np.flatnonzero(labels == k)
        if idx.size:
            obj_mask[idx] = _shape_masks(SHAPES[k], dx[idx], dy[idx], r[idx])
    shift = rng.uniform(0.35, 0.6, size=(n, 3, 1, 1)).astype(np.float32)
    faint = rng.random(n) < faint_fraction  # objects barely visible: only non-robust cues remain
    shift[faint] = rng.uniform(0.02, 0.06, size=(int(faint.sum()), 3, 1, 1)).astype(np.float32)
    sign = np.where(base > 0.5, -1.0, 1.0).astype(np.float32)
    colour = np.clip(base + sign * shift, 0, 1)
    img = np.where(obj_mask[:, None], colour, img)

    # Spurious cue: a CUE_SIZE x CUE_SIZE patch in a random corner, drawn under the object.
    corner = rng.integers(0, 4, size=n)
    y0 = np.where(corner // 2 == 0, 1, h - 1 - CUE_SIZE)[:, None, None]
    x0 = np.where(corner % 2 == 0, 1, w - 1 - CUE_SIZE)[:, None, None]
    patch = (yy[None] >= y0) & (yy[None] < y0 + CUE_SIZE) & (xx[None] >= x0) & (xx[None] < x0 + CUE_SIZE)
    cue_mask = patch & ~obj_mask
    img = np.where(cue_mask[:, None], CUE_COLOURS[cue][:, :, None, None], img)

    if nonrobust_l2 > 0:
        img = img + nonrobust_patterns(n_classes, image_size, nonrobust_l2)[labels]
    images = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    return ShapesSplit(images, labels.astype(np.int64), cue.astype(np.int64), obj_mask, cue_mask)


def generate(
    *,
    n_train: int,
    n_test: int,
    n_classes: int,
    image_size: int,
    p_train: float,
    seed: int,
    nonrobust_l2: float = 0.0,
    faint_fraction: float = 0.0,
    p_test: float | None = None,
) -> dict[str, dict[str, np.ndarray]]:
    """Generate the train split (cue agrees w.p. p_train) and the test split (cue independent). With
    `p_test` the test split is in-distribution (cue agrees w.p. p_test) and a `test_cue_independent` split
    of the same size measures reliance on the cue separately."""
    if not 2 <= n_classes <= len(SHAPES):
        raise ValueError(f"n_classes must be in 2..{len(SHAPES)}, got {n_classes}")
    train_seq, test_seq, shifted_seq = np.random.SeedSequence(seed).spawn(3)
    common = {
        "n_classes": n_classes,
        "image_size": image_size,
        "nonrobust_l2": nonrobust_l2,
        "faint_fraction": faint_fraction,
    }
    train = generate_split(n_train, p_agree=p_train, seed=train_seq, **common)
    test = generate_split(n_test, p_agree=p_test, seed=test_seq, **common)
    splits = {"train": train.as_dict(), "test": test.as_dict()}
    if p_test is not None:
        splits[CUE_INDEPENDENT] = generate_split(n_test, p_agree=None, seed=shifted_seq, **common).as_dict()
    return splits


# --- the dataset kind: its registration ---

POSITIVE = {"$ref": "#/$defs/positive_int"}


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    splits = generate(
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
        "class_names": list(SHAPES[: spec["n_classes"]]),
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
