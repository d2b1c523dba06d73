"""Localisation of the attribution maps on the ground-truth masks (Arras et al. 2022, CLEVR-XAI), beside what
maps with no knowledge of the model score: per method (IG, SHAP) and mask (object, cue), the mass over the
mask's area fraction (`<method>_<mask>_mass_ratio`, 1 = chance), relevance rank accuracy (`_rank_acc`) and the
pointing game (`_pointing`); the same scores of a uniform random map and of a plain edge map (Sobel magnitude
of the image) on the same images are the reference columns (`random_...`, `edge_...`). Reads the
`attributions` probe's maps and images (irbench.explain.localisation). Why two modules of this name: the
scores themselves live in irbench.explain.localisation; this one runs them on the attributions probe's maps
and writes the columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from irbench.explain.localisation import SCORES, edge_map, heatmap, random_map
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, masks, register
from irbench.probes.attributions import AttributionMaps


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    given = ctx.handoff("attributions", AttributionMaps)
    shown, maps = given.images, given.maps
    heats = {m: heatmap(a) for m, a in maps.items()}
    shape = (shown.x.shape[0], *shown.x.shape[2:])
    heats["random"] = random_map(shape, torch.Generator().manual_seed(ctx.seed)).to(shown.x.device)
    heats["edge"] = edge_map(shown.x)
    metrics = {}
    for method, heat in heats.items():
        for name, mask in masks(shown).items():
            for score, fn in SCORES.items():
                metrics[f"{method}_{name}_{score}"] = torch.nanmean(fn(heat, mask.bool())).item()
    return ProbeOutput(metrics)


PROBE = register(
    Probe(
        key="localisation",
        group="attribution",
        run=run,
        description="localisation of the attribution maps on the masks, beside random and edge maps",
        task="classification",
        after=("attributions",),
        schema={"type": "object", "additionalProperties": False, "properties": {}},
        metrics=(
            Metric(
                "{method}_{mask}_mass_ratio",
                "raw",
                True,
                "attribution mass inside the mask over the mask's area fraction (1: no better than chance; "
                "random and edge: reference maps)",
                label="{method} {mask} mass/area",
                row_by="method",
            ),
            Metric(
                "{method}_{mask}_rank_acc",
                "percent",
                True,
                "relevance rank accuracy: the share of the K most attributed pixels (K = mask size) in it",
                label="{method} {mask} rank acc.",
                row_by="method",
            ),
            Metric(
                "{method}_{mask}_pointing",
                "percent",
                True,
                "pointing game: images whose most attributed pixel lies in the mask",
                label="{method} {mask} pointing",
                row_by="method",
            ),
        ),
    )
)
