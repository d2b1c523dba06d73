"""The library's entry points, called directly (no Snakemake): train a variant, evaluate it with probes."""

from __future__ import annotations

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
