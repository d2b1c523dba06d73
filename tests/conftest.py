"""Shared fixtures: a tiny prepared synthetic dataset and the project root."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from irbench.datasets import prepare_dataset

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A prepared synthetic-shapes file with 4 classes and 600 training images."""
    path = tmp_path_factory.mktemp("data") / "shapes.pt"
    spec = {
        "kind": "synthetic_shapes",
        "n_train": 600,
        "n_test": 200,
        "n_classes": 4,
        "image_size": 32,
        "p_train": 0.9,
        "nonrobust_l2": 0.0,
        "faint_fraction": 0.0,
        "seed": 7,
    }
    prepare_dataset(spec, path)
    return path


def probe_context(model, x, y, extras=None, *, task="classification", meta=None, seed=0, batch_size=16, **kw):
    """A ProbeContext on CPU whose test split and scored items are (x, y, extras)."""
    from irbench.data.tensors import Split
    from irbench.probes import ProbeContext

    split = Split(x, y, dict(extras or {}), dict(meta or {}))
    return ProbeContext(
        model=model.eval(),
        test=split,
        scored=split,
        device=torch.device("cpu"),
        seed=seed,
        variant=kw.pop("variant", "v"),
        batch_size=batch_size,
        task=task,
        **kw,
    )
