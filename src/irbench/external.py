"""Checkpoints irbench did not train, as variants: a variant with `checkpoint` (a RobustBench zoo file, a
torchvision weights file, or an irbench architecture's state dict) is imported by the train job, checked
(its sha256, a forward pass on the dataset's inputs, inputs in [0, 1] with normalisation inside, the
class count) and written where a trained model would be, so evaluation, tables, MLflow and the report
treat it like any other variant."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irbench.data.tensors import load_split
from irbench.errors import IrbenchError
from irbench.io import file_digest, load_torch
from irbench.machine import describe
from irbench.models import MODELS, build_model
from irbench.models.interface import LastLinear, check_head
from irbench.models.torchvision_zoo import IMAGENET_MEAN, IMAGENET_STD
from irbench.seeding import seed_everything
from irbench.training import TrainResult

N_CHECK = 256  # test images the import's checks run on


def read_weights(model_spec: Mapping[str, Any], path: Path, n_classes: int, in_channels: int) -> nn.Module:
    """The model built from `path` in its distribution's format (the architecture's `load`), else an
    irbench file (TrainResult's `state_dict`) or a bare state dict of the architecture."""
    arch = MODELS.get(model_spec["arch"])
    if arch.load is not None:
        return arch.load(model_spec, path, n_classes, in_channels)
    payload = load_torch(path)
    state = payload.get("state_dict", payload) if isinstance(payload, Mapping) else payload
    model = build_model(model_spec, n_classes=n_classes, in_channels=in_channels)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        first = str(err).strip().splitlines()[0][:200]
        raise IrbenchError(f"checkpoint.path {path}: not weights of {model_spec['arch']} ({first})") from err
    return model.eval()


def _accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def check_model(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int, where: str) -> dict:
    """The import's checks on test inputs `x` in [0, 1]: logits of the dataset's class count, finite; not
    far better on ImageNet-normalised inputs than on [0, 1] ones (normalisation inside the model); the
    representation fallback reproduces the logits. Returns what it measured."""
    if x.min() < 0 or x.max() > 1:
        got = f"{x.min():.3g}..{x.max():.3g}"
        raise IrbenchError(f"{where}: the dataset's inputs are not in [0, 1] (got {got})")
    with torch.no_grad():
        out = model(x)
    if out.ndim != 2 or out.shape[1] != n_classes:
        raise IrbenchError(
            f"{where}: the model gives outputs of shape {tuple(out.shape[1:])}, the dataset has {n_classes} "
            "classes (expected one logit per class, in the dataset's class order)"
        )
    if not torch.isfinite(out).all():
        raise IrbenchError(f"{where}: the model's logits on the dataset's inputs are not finite")
    acc = _accuracy(model, x, y)
    # a model scoring far better on ImageNet-normalised inputs than on [0, 1] ones expects them normalised
    stats = (IMAGENET_MEAN, IMAGENET_STD)
    mean, std = (torch.tensor(v, device=x.device).view(1, -1, 1, 1) for v in stats)
    acc_normalised = _accuracy(model, (x - mean) / std, y) if x.shape[1] == 3 else acc
    if acc_normalised > max(acc + 0.25, 2.0 / n_classes):
        raise IrbenchError(
            f"{where}: the model scores {acc_normalised:.0%} on ImageNet-normalised inputs and {acc:.0%} on "
            "inputs in [0, 1]: it expects normalised inputs (put its normalisation inside: model.mean/std)"
        )
    gap = check_head(LastLinear(model, n_classes), x) if not hasattr(model, "features") else 0.0
    if gap > 1e-3 * max(1.0, out.abs().max().item()):
        raise IrbenchError(
            f"{where}: its last linear layer is not its last operation (logits differ by {gap:.3g}), so no "
            "representation can be taken from it"
        )
    return {"acc_check": acc, "acc_check_normalised": acc_normalised, "n_check": len(x)}


def import_variant(
    data: str, spec: Mapping[str, Any], *, seed: int, log: Callable[[str], None] = print
) -> TrainResult:
    """Import the variant's `checkpoint` as a TrainResult (no history; `info` carries the provenance)."""
    ckpt = spec["checkpoint"]
    path = Path(ckpt["path"])
    where = f"checkpoint.path {path}"
    if not path.is_file():
        raise IrbenchError(f"{where}: file not found (weights are read from a local file, never downloaded)")
    digest = file_digest(path)
    if ckpt.get("sha256") and ckpt["sha256"] != digest:
        raise IrbenchError(f"{where}: sha256 is {digest}, the configuration expects {ckpt['sha256']}")
    if not ckpt.get("sha256"):
        log(f"import: {path} has sha256 {digest} (no checkpoint.sha256 to check it against; recorded)")
    seed_everything(seed)
    test = load_split(data, "test")
    n_classes = test.meta.get("n_classes", 0)
    model = read_weights(spec["model"], path, n_classes, test.x.shape[1])
    checks = check_model(model, test.x[:N_CHECK], test.y[:N_CHECK], n_classes, where)
    if checks["acc_check"] < 1.5 / n_classes:
        log(
            f"import: {checks['acc_check']:.1%} on {checks['n_check']} test images, near chance: check the "
            "class order and the preprocessing (or the weights are untrained)"
        )
    log(f"import: {spec['model']['arch']} from {path}: {checks}")
    device = torch.device("cpu")
    info = {
        "seed": seed,
        "device": str(device),
        "machine": describe(device),
        "epochs": 0,
        "imported": {
            "path": str(path),
            "sha256": digest,
            "source": ckpt.get("source") or spec["model"]["arch"],
            "checked": bool(ckpt.get("sha256")),
            **checks,
        },
    }
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return TrainResult(state, [], 0, None, info)
