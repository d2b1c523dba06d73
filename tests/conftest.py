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


_FILE_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Sum each test file's set-up, call and tear-down seconds (shared fixtures count where first used)."""
    path = report.nodeid.split("::", 1)[0]
    _FILE_SECONDS[path] = _FILE_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    """Print the wall time of each test file, slowest first, so the suite's growth is seen."""
    if not _FILE_SECONDS:
        return
    terminalreporter.section("wall time per test file")
    for path, seconds in sorted(_FILE_SECONDS.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {path}")
    terminalreporter.write_line(f"{sum(_FILE_SECONDS.values()):8.1f} s  in all")
