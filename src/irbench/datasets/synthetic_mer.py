"""Synthetic music clips whose 7 mid-level attributes are set by the generator and whose 8 emotion ratings
are a known noisy function of them, split 80/10/10 like the reference. The generator itself is audio code
(irbench.audio.synthetic: synthesis, then the same features as real clips), which benchmarks also call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, Splits, mer_size, register


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    from irbench.audio.synthetic import EMOTIONS, MID_LEVEL, synthetic_mer
    from irbench.data.mer_splits import mer_splits

    clips = synthetic_mer(
        spec["n_clips"], seed=spec["seed"], noise=spec["noise"], n_frames=spec["n_frames"], workers=workers
    )
    splits, stats = mer_splits(
        clips["spectrograms"],
        clips["emotions"],
        clips["mid_level"],
        seed=spec["seed"],
        extras={"attributes": clips["attributes"].astype(np.float32)},
    )
    return splits, {"targets": [*EMOTIONS, *MID_LEVEL], "n_emotions": 8, **stats}


KIND = register(
    DatasetKind(
        "synthetic_mer",
        prepare,
        "synthetic clips with known mid-level attributes and emotion ratings",
        size=mer_size,
        task="regression",
        synthetic=True,
        schema={
            "required": ["n_clips", "noise", "n_frames", "seed"],
            "properties": {
                "n_clips": {"type": "integer", "minimum": 10, "description": "expected an integer >= 10"},
                "noise": {"type": "number", "minimum": 0, "description": "expected a non-negative number"},
                "n_frames": {"type": "integer", "minimum": 16, "description": "expected an integer >= 16"},
                "seed": SEED,
                "paper_reference": PAPER_REFERENCE,
            },
        },
    )
)
