"""The visual battery (Boychev): class-specific generation scored by FID (beside the real-vs-real floor),
representation inversion from noise and from another class's image scored by the extractor's mid-level
feature distance, and direct feature visualisation of representation units. Draws the generation/inversion
and the feature figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from irbench.data.tensors import load_split
from irbench.explain.visual import visual_battery
from irbench.metrics.inception import build_extractor, verify_weights
from irbench.probes import Figure, Metric, Probe, ProbeContext, ProbeOutput, register

POSITIVE = {"type": "number", "exclusiveMinimum": 0, "description": "expected a positive number"}
COUNT = {"$ref": "#/$defs/positive_int"}


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    extractor = build_extractor(spec["extractor"]).to(ctx.device)
    n_classes = ctx.test.meta["n_classes"]
    train = load_split(ctx.data_path, "train", raw=True)  # uint8: only the floor's picks become float
    metrics, images = visual_battery(
        ctx.model,
        ctx.test.x,
        ctx.test.y,
        n_classes,
        spec,
        extractor,
        seed=ctx.seed,
        batch_size=ctx.batch_size,
        train_x=train.x,
        train_y=train.y,
    )
    names = list(ctx.test.meta.get("class_names", []))
    return ProbeOutput(
        metrics, artifacts={**images, "class_names": names, "variant": ctx.variant, "seed": ctx.seed}
    )


def preflight(spec: Mapping[str, Any]) -> None:
    """Before any job: an Inception extractor finds its local weights file (nothing is downloaded), and the
    file is whole (irbench.metrics.inception.verify_weights)."""
    if spec["extractor"]["kind"] in ("inception", "torch_fidelity"):
        verify_weights(spec["extractor"]["weights"], spec["extractor"]["kind"])


def draw_visualisations(
    payloads: Sequence[Mapping[str, Any]], output: str, title: str, spec: Mapping
) -> None:
    from irbench.figures import visualisation_grid

    visualisation_grid(payloads, output, title, n_inversions=spec["n_inversions_shown"])


def draw_features(payloads: Sequence[Mapping[str, Any]], output: str, title: str, spec: Mapping) -> None:
    from irbench.figures import feature_grid

    feature_grid(payloads, output, title)


PROBE = register(
    Probe(
        key="visualise",
        group="visual",
        run=run,
        description="class generation + FID, representation inversion + feature distance, unit visualisation",
        task="classification",
        preflight=preflight,
        requires=("representation", "fake_relu"),
        without={
            "representation": "the representation is the input of the model's last linear layer",
            "fake_relu": "no FakeReLU: generation and inversion get no gradient through units at zero",
        },
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": [
                "n_classes_shown",
                "n_inversions",
                "n_inversions_shown",
                "fid_images_per_class",
                "n_units",
                "n_top",
                "gen_eps",
                "gen_step",
                "gen_steps",
                "inv_eps",
                "inv_step",
                "inv_steps",
                "extractor",
            ],
            "properties": {
                "n_classes_shown": COUNT,
                "n_inversions": COUNT,
                "n_inversions_shown": COUNT,
                "fid_images_per_class": {
                    "type": "integer",
                    "minimum": 2,
                    "description": "expected an integer >= 2",
                },
                "n_units": COUNT,
                "n_top": COUNT,
                "extractor": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["kind"],
                    "properties": {
                        "kind": {
                            "enum": ["torch_fidelity", "inception", "random"],
                            "description": "expected torch_fidelity or inception (a weights file) or random",
                        },
                        "weights": {
                            "type": "string",
                            "description": "expected the path of the Inception weights file",
                        },
                        "seed": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "expected a non-negative integer",
                        },
                    },
                    "if": {"properties": {"kind": {"enum": ["inception", "torch_fidelity"]}}},
                    "then": {"required": ["kind", "weights"]},
                },
                "gen_eps": POSITIVE,
                "gen_step": POSITIVE,
                "gen_steps": COUNT,
                "inv_eps": POSITIVE,
                "inv_step": POSITIVE,
                "inv_steps": COUNT,
                # unit visualisation's steps (default inv_steps; Boychev's feature_vis: 200)
                "unit_steps": COUNT,
                # generation keeps each image's best iterate (example) or the batch's (batch: Boychev's)
                "gen_keep_best": {"enum": ["example", "batch"], "description": "expected example or batch"},
                # inversion and unit visualisation keep each image's best iterate (true) or the last
                # (false: Boychev's rep_inversion and feature_vis)
                "inv_keep_best": {"type": "boolean", "description": "expected true or false"},
            },
        },  # fmt: skip
        metrics=(
            Metric(
                "fid",
                "raw",
                False,
                "FID of class-specific generated images against the test split",
                label="FID",
            ),
            Metric(
                "kid",
                "raw",
                False,
                "KID (polynomial-kernel MMD, torch-fidelity) of the generated images against the test split",
                label="KID",
            ),
            Metric(
                "fid_real",
                "raw",
                False,
                "FID of training images (as many per class as generated) against the test split (the floor)",
                label="FID real vs real",
            ),
            Metric(
                "inv_dist",
                "raw",
                False,
                "feature distance of inversions to their targets (noise and other starts)",
                label="inversion distance",
            ),
            Metric(
                "inv_dist_noise",
                "raw",
                False,
                "feature distance of inversions started from noise",
                label="inversion distance, from noise",
            ),
            Metric(
                "inv_dist_other",
                "raw",
                False,
                "feature distance of inversions started from another class's image",
                label="inversion distance, from another class",
            ),
        ),
        figures=(
            Figure(
                kind="visualisations",
                per_seed=True,
                draw=draw_visualisations,
                title="",
                caption=(
                    "Top row: class-conditional Gaussian seeds, inversion targets and other-class starts. "
                    "Then per variant: class images generated from those seeds by L2 PGD on the class "
                    "logit, and representation inversions of the targets from noise and from another "
                    "class's image."
                ),
            ),
            Figure(
                kind="features",
                per_seed=True,
                draw=draw_features,
                title="",
                caption=(
                    "Direct feature visualisation: per variant and representation unit, the image that "
                    "maximises the unit (L2 PGD from noise), then the test images that activate it most "
                    "and least."
                ),
            ),
        ),
    )
)
