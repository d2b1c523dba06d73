"""The attributions probe: the maps of each configured method (`methods`, from the table in
irbench.explain.methods; Integrated Gradients and expected-gradients SHAP by default) of seeded test images
(the same images for every variant of a seed), explaining the predicted class as the reference code does
(`target: true` for the label): the mean fraction of attribution mass inside each ground-truth mask of the
data (`<method>_<mask>_mass`), and the first images' maps for the side-by-side figure. The methods
themselves live in irbench.explain.methods; this module runs them and writes the columns (the same split
as every explain/ and probes/ pair of one name)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from irbench.data.tensors import Split
from irbench.evaluation import predict
from irbench.explain.localisation import mask_mass
from irbench.explain.methods import attribution_maps, settings_schema
from irbench.probes import Figure, Metric, Probe, ProbeContext, ProbeOutput, masks, register


@dataclass(frozen=True)
class AttributionMaps:
    """What this probe hands the probes that read its maps (localisation, sanity, ...): the explained
    images (with their masks), each method's maps of them, the class each map explains and the SHAP
    baselines."""

    images: Split
    maps: dict[str, torch.Tensor]
    target: torch.Tensor
    baselines: torch.Tensor


SETTINGS = ("n_images", "n_baselines", "n_figure")
METHOD_SETTINGS = settings_schema()


def shown_images(ctx: ProbeContext, n_images: int, n_baselines: int = 0):
    """The explained test images and the SHAP baselines: a permutation that depends on the seed only."""
    order = torch.randperm(len(ctx.test), generator=torch.Generator().manual_seed(ctx.seed))
    shown = ctx.test.subset(order[:n_images]).to(ctx.device)
    base = ctx.test.subset(order[-n_baselines:]).to(ctx.device) if n_baselines else None
    return shown, base


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    shown, base = shown_images(ctx, spec["n_images"], spec["n_baselines"])
    preds = predict(ctx.model, shown.x, ctx.batch_size)
    target = preds if spec.get("target", "predicted") == "predicted" else shown.y
    attrs = attribution_maps(ctx.model, shown.x, target, base.x, spec, ctx.seed)
    metrics = {
        f"{method}_{name}_mass": mask_mass(attr, mask).mean().item()
        for method, attr in attrs.items()
        for name, mask in masks(shown).items()
    }
    k = spec["n_figure"]
    artifacts = {
        "images": shown.x[:k].cpu(),
        "labels": shown.y[:k].cpu(),
        "preds": preds[:k].cpu(),
        "class_names": list(ctx.test.meta.get("class_names", [])),
        "methods": list(attrs),
        **{m: t[:k].cpu() for m, t in attrs.items()},
        "variant": ctx.variant,
        "seed": ctx.seed,
    }
    handoff = AttributionMaps(images=shown, maps=attrs, target=target, baselines=base.x)
    return ProbeOutput(metrics, artifacts=artifacts, handoff=handoff)


def draw(payloads: Sequence[Mapping[str, Any]], output: str, title: str, spec: Mapping[str, Any]) -> None:
    from irbench.figures import attribution_grid

    attribution_grid(payloads, output, title)


PROBE = register(
    Probe(
        key="attributions",
        group="attribution",
        run=run,
        description="attribution maps (IG, SHAP, ...): their mass on the ground-truth regions",
        task="classification",
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": [*SETTINGS, "methods"],
            "properties": {
                **{k: {"$ref": "#/$defs/positive_int"} for k in SETTINGS},
                "target": {"enum": ["predicted", "true"], "description": "expected predicted or true"},
                **METHOD_SETTINGS["properties"],
            },
            "allOf": METHOD_SETTINGS["allOf"],
        },
        metrics=(
            Metric(
                "{method}_{mask}_mass",
                "percent",
                None,
                "share of a method's absolute attribution inside the ground-truth region (object or cue)",
                label="{method} mass on {mask}",
                row_by="method",
            ),
        ),
        figures=(
            Figure(
                kind="attributions",
                per_seed=True,
                draw=draw,
                title="Attribution maps",
                caption=(
                    "The configured attribution methods (by default Integrated Gradients of the softmax "
                    "output of the predicted class, exact trapezoid rule, averaged over random baselines "
                    "unless configured black, and expected-gradients SHAP) of every variant on the same "
                    "test images: per image row, the image (with its true class), then absolute attribution "
                    "summed over channels per model, scaled to each map's maximum (colour bar), with the "
                    "model's prediction."
                ),
            ),
        ),
    )
)
