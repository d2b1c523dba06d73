"""Deletion and insertion faithfulness of the attributions (Petsiuk et al. 2018, RISE), scored on the class
each map explains: its probability as the most-attributed pixels are removed (replaced by the image's mean
colour), or inserted into an image that starts as that mean colour, in `n_steps` equal steps from none to
all pixels, divided by its probability on the unperturbed image; and the same for its centred logit (the
logit minus the mean logit; images where that is not positive unperturbed, possible only when the maps
explain the true class of a misclassified image, are left out of the logit curves). Each score is the
area under the mean curve (trapezoid rule over the pixel fraction). A random pixel order (same images,
seeded) is the baseline; `_vs_random` is how much better than it a method does on the same model (its
deletion AUC below random's, its insertion AUC above), the number that compares across models whose
confidence differs. Reads the `attributions` probe's maps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.evaluation import logits_of
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes.attributions import AttributionMaps

SCORES = ("prob", "logit")


def pixel_order(attr: Tensor) -> Tensor:
    """Pixel indices (N, H*W) from most to least attributed (|attribution| summed over channels)."""
    return attr.abs().sum(1).flatten(1).argsort(dim=1, descending=True)


def score_curves(
    model: nn.Module, x: Tensor, target: Tensor, order: Tensor, n_steps: int, *, insert: bool, batch_size: int
) -> dict[str, Tensor]:
    """Per image (N, n_steps + 1): the explained class's probability and centred logit after deleting (or
    inserting) the first k/n_steps of its pixel `order`, k = 0..n."""
    n, c, h, w = x.shape
    fill = x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(h * w, device=order.device).expand(n, -1))
    prob, logit = [], []
    for k in range(n_steps + 1):
        changed = (rank < round(k / n_steps * h * w)).view(n, 1, h, w)
        xk = torch.where(changed, x, fill) if insert else torch.where(changed, fill, x)
        out = logits_of(model, xk, batch_size).float()
        prob.append(out.softmax(1).gather(1, target[:, None])[:, 0])
        logit.append((out - out.mean(1, keepdim=True)).gather(1, target[:, None])[:, 0])
    return {"prob": torch.stack(prob, 1), "logit": torch.stack(logit, 1)}


def normalised_mean(curves: Tensor, unperturbed: Tensor) -> Tensor:
    """The mean over images of each curve divided by its image's unperturbed score (images whose
    unperturbed score is not positive left out)."""
    keep = unperturbed > 0
    return (curves[keep] / unperturbed[keep, None]).mean(0)


def auc(curve: Tensor) -> float:
    """Area under a curve sampled at equal steps of [0, 1] (trapezoid rule)."""
    return torch.trapezoid(curve, dx=1.0 / (len(curve) - 1)).item()


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    given = ctx.handoff("attributions", AttributionMaps)
    x, target = given.images.x, given.target.to(given.images.x.device)
    n_steps = spec["n_steps"]
    random_order = torch.rand(x.shape[0], x.shape[2] * x.shape[3], generator=ctx.generator).argsort(dim=1)
    orders = {**{m: pixel_order(a) for m, a in given.maps.items()}, "random": random_order.to(x.device)}
    clean = logits_of(ctx.model, x, ctx.batch_size).float()
    unperturbed = {
        "prob": clean.softmax(1).gather(1, target[:, None])[:, 0],
        "logit": (clean - clean.mean(1, keepdim=True)).gather(1, target[:, None])[:, 0],
    }
    metrics: dict[str, float] = {}
    for method, order in orders.items():
        for kind in ("deletion", "insertion"):
            curves = score_curves(
                ctx.model, x, target, order, n_steps, insert=kind == "insertion", batch_size=ctx.batch_size
            )
            for score in SCORES:
                suffix = "" if score == "prob" else "_logit"
                mean_curve = normalised_mean(curves[score], unperturbed[score])
                metrics[f"{method}_{kind}{suffix}_auc"] = auc(mean_curve)
    for method in given.maps:
        for score in SCORES:
            suffix = "" if score == "prob" else "_logit"
            gain_del = metrics[f"random_deletion{suffix}_auc"] - metrics[f"{method}_deletion{suffix}_auc"]
            gain_ins = metrics[f"{method}_insertion{suffix}_auc"] - metrics[f"random_insertion{suffix}_auc"]
            metrics[f"{method}_deletion{suffix}_vs_random"] = gain_del
            metrics[f"{method}_insertion{suffix}_vs_random"] = gain_ins
    data = {"n_images": len(x), "n_logit_images": int((unperturbed["logit"] > 0).sum())}
    return ProbeOutput(metrics, data=data)


def _metric(kind: str, score: str, vs_random: bool) -> Metric:
    suffix = "" if score == "prob" else "_logit"
    what = "probability" if score == "prob" else "centred logit"
    word = "removed" if kind == "deletion" else "inserted"
    if vs_random:
        better = "below" if kind == "deletion" else "above"
        return Metric(
            f"{{method}}_{kind}{suffix}_vs_random",
            "raw",
            True,
            f"the method's {kind} AUC ({what}) {better} the random order's on the same model",
            label=f"{{method}} {kind} ({what}) vs random",
            row_by="method",
        )
    return Metric(
        f"{{method}}_{kind}{suffix}_auc",
        "raw",
        kind == "insertion",
        f"area under the explained class's {what} (/ unperturbed) as the most-attributed pixels are {word} "
        "(random: a random order)",
        label=f"{{method}} {kind} AUC ({what})",
        row_by="method",
    )


PROBE = register(
    Probe(
        key="deletion",
        run=run,
        description="deletion/insertion faithfulness of the attribution maps (explained class's probability "
        "and logit), beside a random pixel order",
        task="classification",
        after=("attributions",),
        group="attribution",
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["n_steps"],
            "properties": {"n_steps": {"$ref": "#/$defs/positive_int"}},
        },
        metrics=tuple(
            _metric(kind, score, vs)
            for vs in (False, True)
            for score in SCORES
            for kind in ("deletion", "insertion")
        ),
    )
)
