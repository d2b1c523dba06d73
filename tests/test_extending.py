"""Extending irbench is one new file plus one configuration entry: a probe (deletion/insertion
faithfulness), an attack (uniform noise), a training objective (TRADES), a dataset kind (SVHN), a model
architecture (a plain CNN) and an attribution method (saliency); and a new study is configuration only.

In a copy of the project without those six files, the DAG refuses their configuration entries by name;
with each file put back (and nothing else changed), the tiny vision study trains, evaluates and reports
them: their column, variant and rows are in the study table and the report. A fourth study, a section of
params.yaml and its name in `studies`, gets its jobs, its table and its place in the report; it trains the
new architecture."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from .conftest import ROOT
from .test_workflow import _env, make_project, params, smk, write_params

pytestmark = pytest.mark.e2e

EXTENSIONS = {  # what a researcher adds: the file, and the name its configuration entry uses
    "probe": ("src/irbench/probes/deletion.py", "deletion"),
    "attack": ("src/irbench/attacks/uniform_noise.py", "uniform_noise"),
    "objective": ("src/irbench/objectives/trades.py", "trades"),
    "dataset kind": ("src/irbench/datasets/svhn.py", "svhn"),
    "model": ("src/irbench/models/convnet.py", "convnet"),
    "attribution method": ("src/irbench/explain/methods/saliency.py", "saliency"),
}


def _svhn(root: Path, n: int, seed: int) -> None:
    """SVHN's published layout, small: X (32, 32, 3, N) uint8 and y (N, 1) in 1..10."""
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        y = rng.integers(1, 11, size=(n, 1))
        x = rng.integers(0, 60, size=(32, 32, 3, n), dtype=np.uint8)
        for i, label in enumerate(y[:, 0] % 10):  # a bright bar whose row tells the digit: learnable
            x[3 * label : 3 * label + 3, :, :, i] = 255
        savemat(root / f"{split}_32x32.mat", {"X": x, "y": y})


def _entries(cfg: dict) -> None:
    """One configuration entry per extension (the dataset is also named in the study's list)."""
    vision = cfg["vision"]
    vision["evaluate"]["deletion"] = {"n_steps": 4}
    vision["evaluate"]["attributions"]["methods"] = ["ig", "shap", "saliency"]
    vision["evaluate"]["attacks"]["noise"] = {
        "method": "uniform_noise",
        "norm": "linf",
        "eps": 0.03,
        "steps": 1,
    }
    vision["variants"]["trades"] = {
        "objective": "trades",
        "beta": 6.0,
        "attack": {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.25, "steps": 2},
    }
    cfg["datasets"]["svhn"] = {"kind": "svhn", "root": "data/svhn"}
    vision["datasets"] = ["synthetic_shapes", "svhn"]
    # a study of configuration only: its own section (no code names it) and its name in `studies`
    cfg["shapes"] = {
        "datasets": ["synthetic_shapes"],
        "model": {"arch": "convnet", "width": 4, "depth": 2},
        "train": {
            "epochs": 1,
            "batch_size": 64,
            "optimizer": "adam",
            "lr": 0.002,
            "momentum": 0.9,
            "weight_decay": 0.0,
            "schedule": "constant",
            "augment": [],
            "val_fraction": 0.1,
            "val_size_max": 50,
        },
        "variants": {"standard": {"objective": "standard"}},
        "evaluate": {
            "n_eval": 40,
            "batch_size": 64,
            "clean": {},
            "attacks": {
                "l2_pgd": {"method": "pgd", "norm": "l2", "eps": 0.5, "steps": 2, "random_start": False}
            },
        },
    }
    cfg["studies"] = ["vision", "shapes"]


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> Path:
    """The project without the six extensions, its own `src/` first on the import path."""
    project = make_project(tmp_path_factory.mktemp("extend") / "project")
    for path, _ in EXTENSIONS.values():
        (project / path).unlink()
    cfg = params(project)
    cfg["studies"] = ["vision"]
    cfg["seeds"] = [0]
    del cfg["vision"]["evaluate"]["deletion"]  # the shipped configuration's entries for two of them
    del cfg["scales"]["paper"]["vision"]["variants"]["trades"]
    write_params(project, cfg)
    _svhn(project / "data/svhn", 120, 0)
    return project


def _run(project: Path, *args: str, check: bool = True):
    env = {**_env(), "PYTHONPATH": str(project / "src")}
    return smk(project, *args, check=check, env=env)


def test_nothing_else_in_the_project_names_an_extension(bare):
    # params.yaml and reference.yaml (the papers' claims, which name a `trades` variant) are configuration
    configuration = ("params.yaml", "reference.yaml")
    for path, name in EXTENSIONS.values():
        for p in bare.rglob("*"):
            if p.is_file() and p.suffix in (".py", ".smk", ".yaml", ".rst") and p.name not in configuration:
                assert name not in p.read_text(), f"{p.relative_to(bare)} names {name}"
        assert (ROOT / path).is_file()


def test_without_the_files_their_entries_are_refused_by_name(bare, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(bare, project)
    assert _run(project, "-n").returncode == 0  # the bare project itself runs
    cfg = params(project)
    _entries(cfg)
    write_params(project, cfg)
    proc = _run(project, "-n", check=False)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and ("'svhn'" in text or "deletion" in text), text[-2000:]


def test_each_extension_is_one_file_and_one_entry_and_reaches_table_and_report(bare):
    for path, _ in EXTENSIONS.values():
        (bare / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, bare / path)
    cfg = params(bare)
    _entries(cfg)
    write_params(bare, cfg)
    _run(bare)
    table = pd.read_csv(bare / "results/tables/vision.csv")
    assert set(table["dataset"]) == {"synthetic_shapes", "svhn"}  # the dataset kind's rows
    assert "trades" in set(table["variant"])  # the objective's variant
    assert table["acc_noise_mean"].between(0, 1).all()  # the attack's column
    for col in ("ig_deletion_auc_mean", "shap_insertion_auc_mean", "random_deletion_auc_mean"):
        # the probe's columns: areas under the explained class's probability over its unperturbed one
        assert table[col].between(0, 2).all(), col
    shapes_rows = table[table["dataset"] == "synthetic_shapes"]  # the dataset with masks
    for col in ("saliency_object_mass_mean", "saliency_deletion_auc_mean", "saliency_mprt_top_mean"):
        assert shapes_rows[col].notna().all(), col  # the attribution method's, in every probe reading maps
    page = (bare / "results/report.html").read_text()
    for text in (
        "trades",
        "svhn",
        "acc_noise",
        "ig_deletion_auc",
        "as the most-attributed pixels are removed",
    ):
        assert text in page, text
    md = (bare / "results/tables/vision.md").read_text()
    assert "L-inf-uniform_noise eps 0.03 (%)" in md
    assert "| deletion AUC (probability) | insertion AUC (probability) |" in md
    assert re.search(r"\| svhn \| trades \| \d+ \| IG \|", md)  # one row per attribution method
    assert re.search(r"\| svhn \| trades \| \d+ \| Saliency \|", md)  # the new method's, by its label
    assert os.path.exists(bare / "results/figures/vision_svhn_attributions_seed0.png")
    shapes = pd.read_csv(bare / "results/tables/shapes.csv")  # the fourth study, configuration only
    assert list(shapes["variant"]) == ["standard"] and shapes["acc_clean_mean"].between(0, 1).all()
    saved = torch.load(bare / "results/shapes/models/synthetic_shapes/standard/seed0.pt", weights_only=False)
    assert "blocks.1.0.weight" in saved["state_dict"] and "blocks.2.0.weight" not in saved["state_dict"]
    assert "acc_l2_pgd_mean" in shapes and "shapes" in page
