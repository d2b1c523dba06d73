"""The evaluation battery: clean accuracy and accuracy under each configured attack, batched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.attacks import run_attack


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """Predicted classes for `x`, in batches."""
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def attacked_predictions(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Predicted classes on inputs attacked with cross-entropy under the `attack` entry."""
    preds = []
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        x_adv = run_attack(model, xb, yb, F.cross_entropy, attack, generator=generator)
        with torch.no_grad():
            preds.append(model(x_adv).argmax(1))
    return torch.cat(preds)


def evaluate_classifier(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attacks: Mapping[str, Mapping[str, Any]],
    *,
    batch_size: int = 500,
    cue_labels: Tensor | None = None,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """Clean accuracy (`acc_clean`) and `acc_<name>` per attack; with cue labels, how often the
    prediction follows the spurious cue where it disagrees with the label (`cue_following`)."""
    model.eval()
    pred = predict(model, x, batch_size)
    metrics = {"acc_clean": (pred == y).float().mean().item(), "n_eval": int(len(y))}
    if cue_labels is not None:
        conflict = cue_labels != y
        if conflict.any():
            metrics["cue_following"] = (pred[conflict] == cue_labels[conflict]).float().mean().item()
    for name, spec in attacks.items():
        adv = attacked_predictions(model, x, y, spec, batch_size=batch_size, generator=generator)
        metrics[f"acc_{name}"] = (adv == y).float().mean().item()
    return metrics


def attribution_battery(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    baselines: Tensor,
    spec: Mapping[str, Any],
    masks: Mapping[str, Tensor] | None = None,
) -> tuple[dict[str, float], dict[str, Tensor]]:
    """IG and expected-gradients SHAP for the true class of each image in x.

    Returns the mean fraction of attribution mass inside each ground-truth mask
    (`<method>_<mask>_mass`, e.g. `ig_object_mass`) and the attributions themselves.
    """
    from irbench.explain.attributions import expected_gradients, integrated_gradients, mask_mass

    model.eval()
    attrs = {
        "ig": integrated_gradients(
            model, x, y, steps=spec["ig_steps"], internal_batch_size=spec["internal_batch_size"]
        ),
        "shap": expected_gradients(model, x, y, baselines, samples=spec["shap_samples"]),
    }
    metrics = {}
    for method, attr in attrs.items():
        for name, mask in (masks or {}).items():
            metrics[f"{method}_{name}_mass"] = mask_mass(attr, mask).mean().item()
    return metrics, attrs
