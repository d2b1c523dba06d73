"""The train job: train (or refine, or import) one variant for one seed, write model and metrics, mirror to
MLflow."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from irbench.records import RunKey
from irbench.tracking import live, mirror_train
from irbench.training import train_variant


def train_job(
    *,
    data: str,
    outputs: Sequence[str],
    key: RunKey,
    spec: Mapping[str, Any],
    checkpoint: str | None,
    mlflow_settings: Mapping[str, Any],
    log: Callable[[str], None] = print,
    base_model: str | None = None,
) -> None:
    """Train (or, for a variant with `refine`, refine `base_model`), write model and metrics (atomically),
    remove the resume checkpoint, mirror to MLflow (when the jobs log live, `mlflow.live`)."""
    model_path, metrics_path = outputs
    t0 = time.perf_counter()
    if spec.get("checkpoint"):  # weights irbench did not train: imported and checked
        from irbench.external import import_variant

        result = import_variant(data, spec, seed=key.seed, log=log)
    elif spec.get("refine"):
        from irbench.lime_refinement import refine_variant

        if base_model is None:
            raise ValueError(f"variant {key.variant!r} refines a trained model: base_model is required")
        result = refine_variant(data, spec, base_model, seed=key.seed, checkpoint_path=checkpoint, log=log)
    else:
        result = train_variant(data, spec, seed=key.seed, checkpoint_path=checkpoint, log=log)
    result.info.update(
        study=key.study,
        dataset=key.dataset,
        variant=key.variant,
        config_hash=key.config_hash,
        # this run's time plus what killed earlier runs spent on the epochs it resumed from: the cost of
        # training, the same as an uninterrupted run's
        wall_s=round(time.perf_counter() - t0 + result.info.get("resumed_s", 0.0), 2),
        spec=dict(spec),  # how it was trained: the metrics file alone carries it to MLflow and the reader
    )
    result.save(model_path, metrics_path)
    if checkpoint and Path(checkpoint).exists():
        os.remove(checkpoint)
    if live(mlflow_settings):
        mirror_train(mlflow_settings, metrics_path, log=log)
