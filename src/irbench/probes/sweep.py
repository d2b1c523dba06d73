"""Robustness against attack strength. Classifiers: accuracy under FGSM and L-inf PGD at each eps
(`eps`, `pgd_steps`, `pgd_step_factor`: PGD step = factor * eps / steps) and under L2 PGD at each of
`l2_eps` (optional). Regressors: correlation under the
named attack (`attack`) at each eps, and the smallest swept eps (with its median perturbation L2 norm) at
which the correlation falls below each of `thresholds`, and the smallest swept eps that lowers it by each
of `drops` from the clean correlation (`eps_drop_<d>`: comparable between models of different clean
performance; missing where no swept eps gets there). Draws the robustness curves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from irbench.errors import IrbenchError
from irbench.evaluation import (
    accuracy_sweep,
    eps_label,
    eps_sweep,
    eps_to_threshold,
    first_below,
    regression_outputs,
)
from irbench.metrics.regression import mean_pearson
from irbench.probes import ATTACKED_GATES, Figure, Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes._threats import AttackRuns, eps_text


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    x, y = ctx.scored.x, ctx.scored.y
    if ctx.task == "classification":
        rows, flat, attacked = accuracy_sweep(
            ctx.model, x, y, spec, batch_size=ctx.batch_size, generator=ctx.generator
        )
        runs = AttackRuns()
        for attack, name, correct in attacked:
            runs.file(attack, name, correct)
        return ProbeOutput(flat, data=rows, handoff=runs)
    attacks = ctx.spec_root.get("attacks", {})
    if spec.get("attack") not in attacks or "thresholds" not in spec:
        raise IrbenchError(
            "evaluate.sweep: a regression sweep needs 'thresholds' and 'attack' "
            f"(one of: {', '.join(attacks) or 'no attacks configured'})"
        )
    attack = attacks[spec["attack"]]
    rows = eps_sweep(
        ctx.model, x, y[:, : ctx.test.meta["n_emotions"]], attack, spec["eps"], batch_size=ctx.batch_size
    )
    reached = {k: v for k, v in eps_to_threshold(rows, spec["thresholds"]).items() if v is not None}
    if spec.get("drops"):
        clean = ctx.outputs["clean"].metrics["corr_clean"] if "clean" in ctx.outputs else _clean_corr(ctx)
        for d in spec["drops"]:
            hit = first_below(rows, clean - d)
            if hit is not None:
                reached[f"eps_drop_{d:g}"] = hit["eps"]
    return ProbeOutput(reached, data=rows)


def _clean_corr(ctx: ProbeContext) -> float:
    """The clean correlation on the scored items, where the `clean` probe did not run."""
    n = ctx.test.meta["n_emotions"]
    return mean_pearson(regression_outputs(ctx.model, ctx.scored.x, ctx.batch_size), ctx.scored.y[:, :n])


def draw(records: Sequence[Mapping[str, Any]], output: str, title: str, spec: Mapping[str, Any]) -> None:
    from irbench.figures import robustness_curves

    robustness_curves(records, output, title)


def headers(spec: Mapping[str, Any]) -> dict[str, str]:
    """The swept columns named by attack, norm and eps, in the sweep's order (`L2-PGD eps 0.5`)."""
    out = {}
    for eps in spec["eps"]:
        label, text = eps_label(eps), eps_text("linf", eps)
        out |= {f"acc_fgsm_{label}": f"FGSM eps {text}", f"acc_pgd_{label}": f"L-inf-PGD eps {text}"}
    out |= {f"acc_pgd_l2_{eps:g}": f"L2-PGD eps {eps:g}" for eps in spec.get("l2_eps", [])}
    for t in spec.get("thresholds", []):
        out |= {f"eps_below_{t:g}": f"eps to corr < {t:g}", f"norm_below_{t:g}": f"L2 norm to corr < {t:g}"}
    out |= {f"eps_drop_{d:g}": f"eps to lose {d:g} corr" for d in spec.get("drops", [])}
    return out


PROBE = register(
    Probe(
        key="sweep",
        group="sweep",
        run=run,
        description="performance against attack eps",
        follows=("clean",),
        headers=headers,  # a regression sweep's `drops` read the clean correlation
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["eps"],
            "properties": {
                "attack": {
                    "type": "string",
                    "description": "expected the name of an entry of 'attacks' (regression)",
                },
                "pgd_steps": {"$ref": "#/$defs/positive_int"},
                "pgd_step_factor": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "description": "expected a positive number",
                },
                "l2_eps": {
                    "type": "array",
                    "items": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "description": "expected a positive number",
                    },
                },
                "eps": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "description": "expected a positive number",
                    },
                },
                "thresholds": {
                    "type": "array",
                    "items": {"type": "number", "description": "expected a correlation threshold"},
                },
                "drops": {
                    "type": "array",
                    "items": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "description": "expected a positive drop in correlation",
                    },
                },
            },
        },
        metrics=(
            Metric(
                "acc_fgsm_{eps}",
                "percent",
                True,
                "accuracy under FGSM at eps (in 1/255 where it is one)",
                ATTACKED_GATES,
                "FGSM eps {eps}",
            ),
            Metric(
                "acc_pgd_{eps}",
                "percent",
                True,
                "accuracy under L-inf PGD at eps (in 1/255 where it is one)",
                ATTACKED_GATES,
                "L-inf-PGD eps {eps}",
            ),
            Metric(
                "acc_pgd_l2_{eps}",
                "percent",
                True,
                "accuracy under L2 PGD at eps",
                ATTACKED_GATES,
                "L2-PGD eps {eps}",
            ),
            Metric(
                "eps_below_{threshold}",
                "raw",
                True,
                "smallest swept eps that pushes the correlation below the threshold",
                label="eps to corr < {threshold}",
            ),
            Metric(
                "norm_below_{threshold}",
                "raw",
                True,
                "median perturbation L2 norm at that eps",
                label="L2 norm to corr < {threshold}",
            ),
            Metric(
                "eps_drop_{drop}",
                "raw",
                True,
                "smallest swept eps that lowers the correlation by the drop from clean",
                label="eps to lose {drop} corr",
            ),
        ),
        figures=(
            Figure(
                kind="robustness",
                per_seed=False,
                draw=draw,
                title="",
                caption=(
                    "Robustness curves of {study} on {dataset}: the study's headline metric (accuracy in % "
                    "for classifiers, with chance level dashed; correlation for regressors) against the "
                    "attack's eps, one line per variant, mean ± std over seeds (the band). The eps bound is "
                    "enforced; the x axis is logarithmic."
                ),
            ),
        ),
    )
)
