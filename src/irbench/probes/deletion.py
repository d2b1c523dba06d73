"""Deletion and insertion faithfulness of the attributions (Petsiuk et al. 2018, RISE): the model's accuracy
as the most-attributed pixels are removed (replaced by the image's mean colour), or inserted into an image
that starts as that mean colour, in `n_steps` equal steps from none to all pixels; each score is the area
under its accuracy curve (trapezoid rule over the removed fraction, in [0, 1]). A faithful map makes the
deletion AUC low and the insertion AUC high. A random pixel order (same images, seeded) is the baseline
each method is read against. Reads the `attributions` probe's maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.evaluation import predict
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes.attributions import AttributionMaps


def pixel_order(attr: Tensor) -> Tensor:
    """Pixel indices (N, H*W) from most to least attributed (|attribution| summed over channels)."""
    return attr.abs().sum(1).flatten(1).argsort(dim=1, descending=True)


def accuracy_curve(
    model: nn.Module, x: Tensor, y: Tensor, order: Tensor, n_steps: int, *, insert: bool, batch_size: int
) -> Tensor:
    """Accuracy after deleting (or inserting) the first k/n_steps of each image's pixel `order`, k = 0..n."""
    n, c, h, w = x.shape
    fill = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(h * w, device=order.device).expand(n, -1))
    acc = []
    for k in range(n_steps + 1):
        changed = (rank < round(k / n_steps * h * w)).view(n, 1, h, w)
        xk = torch.where(changed, x, fill) if insert else torch.where(changed, fill, x)
        acc.append((predict(model, xk, batch_size) == y).float().mean())
    return torch.stack(acc)


def auc(curve: Tensor) -> float:
    """Area under a curve sampled at equal steps of [0, 1] (trapezoid rule)."""
    return torch.trapezoid(curve, dx=1.0 / (len(curve) - 1)).item()


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    given = ctx.handoff("attributions", AttributionMaps)
    shown, maps = given.images, given.maps
    x, y = shown.x, shown.y
    n_steps = spec["n_steps"]
    random_order = torch.rand(x.shape[0], x.shape[2] * x.shape[3], generator=ctx.generator).argsort(dim=1)
    orders = {**{m: pixel_order(a) for m, a in maps.items()}, "random": random_order.to(x.device)}
    metrics = {}
    for method, order in orders.items():
        for kind in ("deletion", "insertion"):
            curve = accuracy_curve(
                ctx.model, x, y, order, n_steps, insert=kind == "insertion", batch_size=ctx.batch_size
            )
            metrics[f"{method}_{kind}_auc"] = auc(curve)
    return ProbeOutput(metrics)


PROBE = register(
    Probe(
        key="deletion",
        run=run,
        description="deletion/insertion faithfulness of the attribution maps, beside a random pixel order",
        task="classification",
        after=("attributions",),
        group="attribution",
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["n_steps"],
            "properties": {"n_steps": {"$ref": "#/$defs/positive_int"}},
        },
        metrics=(
            Metric(
                "{method}_deletion_auc",
                "percent",
                False,
                "area under accuracy as the most-attributed pixels are removed (random: a random order)",
                label="{method} deletion AUC",
                row_by="method",
            ),
            Metric(
                "{method}_insertion_auc",
                "percent",
                True,
                "area under accuracy as the most-attributed pixels are inserted (random: a random order)",
                label="{method} insertion AUC",
                row_by="method",
            ),
        ),
    )
)
