"""The evaluate job: run the probes a study's `evaluate` section names on one trained model and write one
record (metrics, each probe's data) and one artifacts file (each probe's images for the figures)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import torch

from irbench.data.tensors import extra_splits, load_split
from irbench.io import save_torch
from irbench.jobs.probe_checkpoints import ProbeCheckpoints
from irbench.models.interface import fallbacks
from irbench.probes import ProbeContext, run_probes
from irbench.records import RunKey, write_record
from irbench.seeding import pick_device, seed_everything
from irbench.tracking import live, mirror_eval
from irbench.training import load_trained

JOB_KEYS = ("n_eval", "batch_size")  # settings of the job itself; every other key names a probe


def evaluate_job(
    *,
    data: str,
    model: str,
    output: str,
    artifacts_output: str,
    key: RunKey,
    model_spec: Mapping[str, Any],
    spec: Mapping[str, Any],
    mlflow_settings: Mapping[str, Any],
    inputs: Mapping[str, str] | None = None,
    checkpoint: str | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Evaluate `model` on the test split of `data` with the probes of `spec`; write `output` (the record)
    and `artifacts_output` atomically; mirror the record to MLflow. Returns the record. With `checkpoint`
    (a folder), each finished probe is kept there, and a rerun after a kill resumes at the probe it was in
    (irbench.jobs.probe_checkpoints)."""
    t0 = time.perf_counter()
    seed_everything(key.seed)
    device = pick_device()
    test = load_split(data, "test")
    net = load_trained(model, model_spec, test.meta.get("n_classes", 0)).to(device)
    splits = {}
    for name in extra_splits(data):
        split = load_split(data, name)
        splits[name] = split.subset(torch.arange(min(spec["n_eval"], len(split)))).to(device)
    ctx = ProbeContext(
        model=net,
        test=test,
        scored=test.subset(torch.arange(min(spec["n_eval"], len(test)))).to(device),
        device=device,
        seed=key.seed,
        variant=key.variant,
        batch_size=spec["batch_size"],
        task=test.meta.get("task", "classification"),
        spec_root=spec,
        splits=splits,
        inputs=dict(inputs or {}),
        data_path=str(data),
        log=log,
    )
    store = None
    if checkpoint is not None:
        files = [data, model, *(inputs or {}).values()]
        settings = {"key": key.ids(), "model": model_spec, "spec": spec}
        store = ProbeCheckpoints.for_job(checkpoint, files, settings, log)
        ctx.scratch = store.scratch()
    kept = store.load() if store is not None else {}
    metrics, data_by_probe, artifacts = run_probes(ctx, spec, kept, store.save if store else None)
    save_torch({"variant": key.variant, "seed": key.seed, "probes": artifacts}, artifacts_output)
    extra = {
        "n_eval": len(ctx.scored),
        "n_classes": test.meta.get("n_classes"),  # the chance level the figures draw
        "eval_spec": dict(spec),
        # probes served without a capability the model lacks, and how (irbench.models.interface)
        "fallbacks": [f.as_dict() for f in fallbacks(model_spec, spec)],
        "probe_s": dict(ctx.seconds),  # each probe's wall time (s), in the order run
        **data_by_probe,
    }
    record = write_record(key, metrics, extra, output=output, device=str(device), started=t0)
    log(f"eval: {dict(metrics)}")
    if live(mlflow_settings):  # the same route as the train job's: the written file, read back
        mirror_eval(mlflow_settings, output, log=log)
    if store is not None:
        store.clear()
    return record
