"""The bodies of the train and evaluate jobs: library calls, atomic outputs, MLflow mirroring.

Kept apart from the workflow scripts so they can be tested and called without Snakemake.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch

from irbench.data.tensors import load_split
from irbench.evaluation import attribution_battery, evaluate_classifier
from irbench.io import save_torch, write_json
from irbench.seeding import pick_device, seed_everything
from irbench.tracking import RunKey, curves_png, mirror
from irbench.training import load_trained, train_variant


def train_job(
    *,
    data: str,
    outputs: Sequence[str],
    study: str,
    dataset: str,
    variant: str,
    seed: int,
    spec: Mapping[str, Any],
    config_hash: str,
    checkpoint: str | None,
    mlflow_settings: Mapping[str, Any],
    log: Callable[[str], None] = print,
    base_model: str | None = None,
) -> None:
    """Train (or, for a variant with `refine`, refine `base_model`), write model and metrics
    (atomically), remove the resume checkpoint, mirror to MLflow."""
    model_path, metrics_path = outputs
    t0 = time.perf_counter()
    if spec.get("refine"):
        from irbench.refine import refine_variant

        if base_model is None:
            raise ValueError(f"variant {variant!r} refines a trained model: base_model is required")
        result = refine_variant(data, spec, base_model, seed=seed, checkpoint_path=checkpoint, log=log)
    else:
        result = train_variant(data, spec, seed=seed, checkpoint_path=checkpoint, log=log)
    result.info.update(
        study=study,
        dataset=dataset,
        variant=variant,
        config_hash=config_hash,
        wall_s=round(time.perf_counter() - t0, 2),
    )
    result.save(model_path, metrics_path)
    if checkpoint and Path(checkpoint).exists():
        os.remove(checkpoint)
    key = RunKey(study, dataset, variant, seed, config_hash)
    png = curves_png(result.history, f"{study} {dataset} {variant} seed {seed}")
    mirror(
        mlflow_settings,
        key,
        params={"variant": dict(spec), "seed": seed, "dataset": dataset},
        history=result.history,
        metrics={
            "best_epoch": result.best_epoch,
            "best_score": result.best_score,
            "wall_s": result.info["wall_s"],
        },
        artifacts=[metrics_path, png],
        stage="train",
        log=log,
    )


def evaluate_job(
    *,
    data: str,
    model: str,
    output: str,
    attr_output: str | None,
    study: str,
    dataset: str,
    variant: str,
    seed: int,
    model_spec: Mapping[str, Any],
    spec: Mapping[str, Any],
    config_hash: str,
    mlflow_settings: Mapping[str, Any],
    log: Callable[[str], None] = print,
    corruptions: str | None = None,
) -> dict[str, Any]:
    """Run the evaluation battery on the test split; write the record atomically; mirror to MLflow.

    The battery: clean accuracy, accuracy under each attack, the FGSM/PGD eps sweep (`sweep`), accuracy
    on each corruption and severity (`corruptions`, a file of corrupted test images) and, with
    `attr_output`, IG and SHAP attributions (`attributions`: mass on the ground-truth masks where the
    data has them) or LIME explanations (`lime`); the first images' maps are saved for the figure.
    """
    t0 = time.perf_counter()
    gen = seed_everything(seed)
    device = pick_device()
    test = load_split(data, "test")
    scored = test.subset(torch.arange(min(spec["n_eval"], len(test)))).to(device)
    net = load_trained(model, model_spec, test.meta.get("n_classes", 0)).to(device)
    extra: dict[str, Any] = {}
    if test.meta.get("task") == "regression":
        mid_names = test.meta["targets"][test.meta["n_emotions"] :]
        metrics, extra = _regression_metrics(
            net, scored.x, scored.y, test.meta["n_emotions"], mid_names, spec, gen
        )
    else:
        metrics = evaluate_classifier(
            net,
            scored.x,
            scored.y,
            spec["attacks"],
            batch_size=spec["batch_size"],
            cue_labels=scored.extras.get("cue_labels"),
            generator=gen,
        )
        extra.update(_robustness_extras(net, scored, spec, corruptions, device, metrics, gen))
    if attr_output and "lime" in spec:
        _save_lime_gallery(net, test, spec["lime"], seed, variant, attr_output, device)
    elif attr_output:
        a = spec["attributions"]
        # Depends on the seed only, so every variant explains the same images.
        order = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))
        shown = test.subset(order[: a["n_images"]]).to(device)
        base = test.subset(order[-a["n_baselines"] :]).to(device)
        masks = {k.removesuffix("_mask"): v for k, v in shown.extras.items() if k.endswith("_mask")}
        attr_metrics, attrs = attribution_battery(net, shown.x, shown.y, base.x, a, masks)
        metrics.update(attr_metrics)
        k = a["n_figure"]
        save_torch(
            {
                "images": shown.x[:k].cpu(),
                "labels": shown.y[:k].cpu(),
                **{m: t[:k].cpu() for m, t in attrs.items()},
                "variant": variant,
                "seed": seed,
            },
            attr_output,
        )
    key = RunKey(study, dataset, variant, seed, config_hash)
    return _publish(
        key,
        metrics,
        {"eval_spec": dict(spec), **extra},
        {"eval": dict(spec)},
        device,
        t0,
        output,
        "eval",
        mlflow_settings,
        log,
    )


def _robustness_extras(net, scored, spec, corruptions, device, metrics, gen) -> dict[str, Any]:
    """The eps sweep and corruption accuracies of a classifier: flat metrics into `metrics`, the sweep
    rows and the corruption-by-severity table returned for the record (the figures read them)."""
    from irbench.evaluation import accuracy_sweep, corruption_accuracy
    from irbench.io import load_torch

    extra: dict[str, Any] = {}
    if "sweep" in spec:
        rows, flat = accuracy_sweep(
            net, scored.x, scored.y, spec["sweep"], batch_size=spec["batch_size"], generator=gen
        )
        metrics.update(flat)
        extra["sweep"] = rows
    if corruptions:
        table, flat = corruption_accuracy(net, load_torch(corruptions), device, spec["batch_size"])
        metrics.update(flat)
        extra["corruptions"] = table
    return extra


def _save_lime_gallery(net, test, spec, seed: int, variant: str, output: str, device) -> None:
    """LIME maps (true class) of the same test images for every variant (chosen by the seed only)."""
    from irbench.explain.lime_batch import explain_batch

    order = torch.randperm(len(test), generator=torch.Generator().manual_seed(seed))
    shown = test.subset(order[: spec["n_images"]])
    labels = [[int(v)] for v in shown.y]
    exps = explain_batch(
        net,
        shown.x.to(device),
        labels,
        num_samples=spec["num_samples"],
        batch_size=spec["batch_size"],
        segmentation=spec.get("segmentation"),
        seed=seed,
    )
    maps = torch.stack(
        [torch.from_numpy(e.pixel_map(lab[0])).float() for e, lab in zip(exps, labels, strict=True)]
    )
    save_torch(
        {
            "images": shown.x.cpu(),
            "labels": shown.y.cpu(),
            "lime": maps[:, None],
            "segments": torch.stack([torch.from_numpy(e.segments) for e in exps]),
            "variant": variant,
            "seed": seed,
        },
        output,
    )


def _regression_metrics(
    net: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    n_emotions: int,
    mid_names: Sequence[str],
    spec: Mapping[str, Any],
    gen,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """MER battery: correlation and MAE clean and under each attack, the eps sweep with the eps needed to
    push the correlation below each threshold, and (bottleneck models) each unit's correlation with its
    mid-level target."""
    from irbench.evaluation import eps_sweep, eps_to_threshold, evaluate_regressor
    from irbench.metrics.regression import pearson_per_column

    emotions, mid = y[:, :n_emotions], y[:, n_emotions:]
    metrics = evaluate_regressor(
        net, x, emotions, spec["attacks"], batch_size=spec["batch_size"], generator=gen
    )
    extra: dict[str, Any] = {}
    if "sweep" in spec:
        sw = spec["sweep"]
        rows = eps_sweep(
            net, x, emotions, spec["attacks"][sw["attack"]], sw["eps"], batch_size=spec["batch_size"]
        )
        metrics.update({k: v for k, v in eps_to_threshold(rows, sw["thresholds"]).items() if v is not None})
        extra["sweep"] = rows
    if getattr(net, "head_kind", None) == "bottleneck" and mid.shape[1]:
        with torch.no_grad():
            units = torch.cat([net.bottleneck(x[i : i + 64]) for i in range(0, len(x), 64)])
        per_unit = pearson_per_column(units, mid)
        metrics.update({f"unit_corr_{name}": float(r) for name, r in zip(mid_names, per_unit, strict=True)})
        metrics["unit_corr_avg"] = per_unit.mean().item()
    return metrics, extra


def interpret_job(
    *,
    data: str,
    model: str,
    output: str,
    images_output: str,
    study: str,
    dataset: str,
    variant: str,
    seed: int,
    model_spec: Mapping[str, Any],
    spec: Mapping[str, Any],
    batch_size: int,
    config_hash: str,
    mlflow_settings: Mapping[str, Any],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Class generation + FID, representation inversion + feature distance, feature visualisation.

    Writes a record like the evaluation's (merged with it in the tables) and the images for the figures.
    """
    from irbench.explain.visual import visual_battery
    from irbench.metrics.inception import build_extractor

    t0 = time.perf_counter()
    seed_everything(seed)
    device = pick_device()
    test = load_split(data, "test")
    net = load_trained(model, model_spec, test.meta["n_classes"]).to(device)
    extractor = build_extractor(spec["extractor"]).to(device)
    metrics, images = visual_battery(
        net, test.x, test.y, test.meta["n_classes"], spec, extractor, seed=seed, batch_size=batch_size
    )
    save_torch({**images, "variant": variant, "seed": seed}, images_output)
    key = RunKey(study, dataset, variant, seed, config_hash)
    return _publish(
        key,
        metrics,
        {"visualise_spec": dict(spec)},
        {"visualise": dict(spec)},
        device,
        t0,
        output,
        "interpret",
        mlflow_settings,
        log,
    )


def _publish(
    key: RunKey,
    metrics: Mapping[str, Any],
    extra: Mapping[str, Any],
    params: Mapping[str, Any],
    device: torch.device,
    t0: float,
    output: str,
    stage: str,
    mlflow_settings: Mapping[str, Any],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Write a per-seed record (ids, metrics, `extra`, device, wall time) atomically; mirror it to MLflow
    with `params`."""
    record = {
        "study": key.study,
        "dataset": key.dataset,
        "variant": key.variant,
        "seed": key.seed,
        "config_hash": key.config_hash,
        "metrics": dict(metrics),
        **extra,
        "device": str(device),
        "wall_s": round(time.perf_counter() - t0, 2),
    }
    write_json(record, output)
    log(f"{stage}: {dict(metrics)}")
    mirror(mlflow_settings, key, params=params, metrics=metrics, artifacts=[output], stage=stage, log=log)
    return record


def corrupt_job(
    *, data: str, output: str, spec: Mapping[str, Any], seed: int, log: Callable[[str], None] = print
) -> None:
    """Write the corrupted test images of a prepared dataset (atomically): `spec['released']` names a
    CIFAR-10-C folder to read, else the corruptions are generated from the first `n_images` test images."""
    from irbench.data.corruptions import corruption_set

    test = load_split(data, "test", raw=True)
    n = min(spec["n_images"], len(test))
    t0 = time.perf_counter()
    out = corruption_set(
        test.x[:n], test.y[:n], spec["names"], spec["severities"], seed, released=spec.get("released")
    )
    save_torch(out, output)
    elapsed = time.perf_counter() - t0
    log(f"{len(out['images'])} corrupted sets of {n} images ({out['source']}) in {elapsed:.1f} s")
