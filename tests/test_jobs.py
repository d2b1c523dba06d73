"""The library's entry points, called directly (no Snakemake): train a variant, evaluate it with probes."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from irbench.io import load_torch, read_json
from irbench.jobs.evaluate import evaluate_job
from irbench.jobs.train import train_job
from irbench.probes import PROBES
from irbench.records import RunKey

from .test_training import SPEC as TRAIN_SPEC

SPEC = {**TRAIN_SPEC, "train": {**TRAIN_SPEC["train"], "epochs": 1}}
EVAL = {
    "n_eval": 50,
    "batch_size": 25,
    "clean": {},
    "cue_following": {},
    "attacks": {"linf": {"method": "pgd", "norm": "linf", "eps": 0.03, "steps": 2}},
    "attributions": {
        "methods": ["ig", "shap"],
        "n_images": 8,
        "n_baselines": 4,
        "n_figure": 2,
        "ig_steps": 4,
        "internal_batch_size": 64,
        "shap_samples": 4,
    },
    "deletion": {"n_steps": 4},
}
OFF = {"enabled": False}


def test_train_then_evaluate_write_one_record_and_one_artifacts_file(tiny_dataset, tmp_path):
    key = RunKey("study", "shapes", "standard", 3, "h")
    model, metrics = tmp_path / "m.pt", tmp_path / "m.json"
    train_job(
        data=str(tiny_dataset),
        outputs=[str(model), str(metrics)],
        key=key,
        spec=SPEC,
        checkpoint=str(tmp_path / "ckpt.pt"),
        mlflow_settings=OFF,
        log=lambda m: None,
    )
    trained = read_json(metrics)
    assert trained["seed"] == 3 and trained["variant"] == "standard" and trained["wall_s"] > 0
    assert not (tmp_path / "ckpt.pt").exists()
    record_path, artifacts_path = tmp_path / "r.json", tmp_path / "r.artifacts.pt"
    args = dict(
        data=str(tiny_dataset),
        model=str(model),
        output=str(record_path),
        artifacts_output=str(artifacts_path),
        key=key,
        model_spec=SPEC["model"],
        spec=EVAL,
        mlflow_settings=OFF,
        log=lambda m: None,
    )
    record = evaluate_job(**args)
    assert read_json(record_path) == record and record["n_eval"] == 50 and record["seed"] == 3
    m = record["metrics"]
    assert {"acc_clean", "cue_following", "acc_linf", "ig_object_mass", "ig_deletion_auc"} <= set(m)
    assert 0 <= m["acc_linf"] <= m["acc_clean"] <= 1
    # each probe's wall time, in the order the probes ran (where an evaluation's time goes)
    assert list(record["probe_s"]) == [k for k in EVAL if k in PROBES] and all(
        t >= 0 for t in record["probe_s"].values()
    )
    artifacts = load_torch(artifacts_path)
    assert (
        set(artifacts["probes"]) == {"attributions"}
        and artifacts["probes"]["attributions"]["ig"].shape[0] == 2
    )
    again = evaluate_job(**{**args, "output": str(tmp_path / "again.json")})
    assert again["metrics"] == record["metrics"]  # same seed, same numbers
    assert torch.equal(
        load_torch(artifacts_path)["probes"]["attributions"]["ig"], artifacts["probes"]["attributions"]["ig"]
    )


def test_an_evaluation_killed_mid_way_resumes_at_its_probe_with_the_same_record(
    tiny_dataset, tmp_path, monkeypatch
):
    """The deletion probe dies (as under a kill): the rerun keeps clean, cue_following, attacks and
    attributions from the interrupted run (attributions' handoff included, which deletion reads),
    runs deletion, and writes the record an uninterrupted run writes."""
    key = RunKey("study", "shapes", "standard", 0, "h")
    model = tmp_path / "m.pt"
    train_job(
        data=str(tiny_dataset),
        outputs=[str(model), str(tmp_path / "m.json")],
        key=key,
        spec=SPEC,
        checkpoint=str(tmp_path / "ckpt.pt"),
        mlflow_settings=OFF,
        log=lambda m: None,
    )
    said: list[str] = []
    args = dict(
        data=str(tiny_dataset),
        model=str(model),
        artifacts_output=str(tmp_path / "a.pt"),
        key=key,
        model_spec=SPEC["model"],
        spec=EVAL,
        mlflow_settings=OFF,
        checkpoint=str(tmp_path / "seed0.eval"),
        log=said.append,
    )
    whole = evaluate_job(**args, output=str(tmp_path / "whole.json"))
    assert not (tmp_path / "seed0.eval").exists()  # removed once the record is written

    def killed(ctx, spec):
        raise KeyboardInterrupt

    deletion = PROBES.get("deletion")
    monkeypatch.setitem(PROBES._entries, "deletion", dataclasses.replace(deletion, run=killed))
    with pytest.raises(KeyboardInterrupt):
        evaluate_job(**args, output=str(tmp_path / "resumed.json"))
    monkeypatch.setitem(PROBES._entries, "deletion", deletion)
    assert sorted(p.stem for p in (tmp_path / "seed0.eval").glob("*.pt")) == [
        "attacks",
        "attributions",
        "clean",
        "cue_following",
    ]
    said.clear()
    resumed = evaluate_job(**args, output=str(tmp_path / "resumed.json"))
    assert resumed["metrics"] == whole["metrics"]
    assert {k: resumed[k] for k in EVAL if k in resumed} == {k: whole[k] for k in EVAL if k in whole}
    assert sum("kept from the interrupted run" in line for line in said) == 4, said
