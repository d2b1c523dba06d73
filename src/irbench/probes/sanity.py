"""The sanity probe: checks of the attribution maps (Adebayo et al. 2018), per method (IG, SHAP, ...) on the
first `n_images` images the `attributions` probe explained, with its settings: the model-parameter
randomisation test, cascading from the output layer down in `n_stages` steps (`<method>_mprt_top`: the rank
correlation with the trained model's maps after the top stage is re-initialised; `<method>_mprt_all`: after
every layer is; the whole curve in the record), and the random-logit test (`<method>_random_logit`: the
explanation of a random other class against the predicted class's). Spearman rank correlation of the
absolute maps, mean over images; high means the maps barely depend on the model or the class, which the
report flags. Why two modules of this name: the tests themselves live in irbench.explain.sanity; this
module runs them on the maps the attributions probe hands over and writes the columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.explain.methods import AttributionRequest, explain_with
from irbench.explain.sanity import cascading_randomisation, random_logit
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes.attributions import AttributionMaps

# above this mean rank correlation after randomisation, a method's maps "barely change" (the report's flag)
BARELY_CHANGES = 0.5


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    given = ctx.handoff("attributions", AttributionMaps)
    k = spec["n_images"]
    x, target, base = given.images.x[:k], given.target[:k], given.baselines
    settings = ctx.spec_root["attributions"]
    n_classes = ctx.test.meta.get("n_classes") or int(ctx.test.y.max()) + 1
    metrics, data = {}, {}
    for method, maps in given.maps.items():

        def one(model, tgt, method=method):
            return explain_with(method, AttributionRequest(model, x, tgt, base, settings, ctx.seed))

        curve = cascading_randomisation(ctx.model, one, target, maps[:k], spec["n_stages"], ctx.seed)
        metrics[f"{method}_mprt_top"], metrics[f"{method}_mprt_all"] = curve[0], curve[-1]
        metrics[f"{method}_random_logit"] = random_logit(
            one, ctx.model, target, maps[:k], n_classes, ctx.seed
        )
        data[method] = {"mprt_cascade": curve}
    return ProbeOutput(metrics, data=data)


PROBE = register(
    Probe(
        key="sanity",
        group="sanity",
        run=run,
        description="sanity checks of the attribution maps: parameter randomisation and random logit",
        task="classification",
        after=("attributions",),
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["n_images", "n_stages"],
            "properties": {
                "n_images": {"$ref": "#/$defs/positive_int"},
                "n_stages": {"$ref": "#/$defs/positive_int"},
            },
        },
        metrics=(
            Metric(
                "{method}_mprt_top",
                "raw",
                False,
                "rank correlation of the maps with the trained model's after re-initialising the top "
                "layers (the first cascade stage); high: the maps barely depend on them",
                label="{method} MPRT, top layers random",
                row_by="method",
            ),
            Metric(
                "{method}_mprt_all",
                "raw",
                False,
                "rank correlation of the maps with the trained model's after re-initialising every layer",
                label="{method} MPRT, all layers random",
                row_by="method",
            ),
            Metric(
                "{method}_random_logit",
                "raw",
                False,
                "rank correlation between the maps of the predicted class and of a random other class",
                label="{method} random logit",
                row_by="method",
            ),
        ),
    )
)
