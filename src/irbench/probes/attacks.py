"""Performance under each configured attack (`evaluate.attacks`: name -> attack entry): accuracy for
classifiers; correlation, MAE, the correlation drop from clean and the median perturbation norm for
regressors (whose attacks ascend the emotion MSE, unbounded by an input range)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.evaluation import attack_correct, attacked_regression_metrics
from irbench.probes import (
    ATTACKED_GATES,
    REGRESSION_ATTACKED_GATES,
    Metric,
    Probe,
    ProbeContext,
    ProbeOutput,
    register,
)
from irbench.probes._threats import AttackRuns, attack_title


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    x, y, metrics, runs = ctx.scored.x, ctx.scored.y, {}, AttackRuns()
    for name, attack in spec.items():
        if ctx.task == "classification":
            correct = attack_correct(
                ctx.model, x, y, attack, batch_size=ctx.batch_size, generator=ctx.generator
            )
            metrics[f"acc_{name}"] = correct.float().mean().item()
            runs.file(attack, name, correct)
            continue
        m = attacked_regression_metrics(
            ctx.model,
            x,
            y[:, : ctx.test.meta["n_emotions"]],
            attack,
            batch_size=ctx.batch_size,
            generator=ctx.generator,
        )
        metrics.update({f"corr_{name}": m["corr"], f"mae_{name}": m["mae"]})
        metrics[f"corr_drop_{name}"] = ctx.outputs["clean"].metrics["corr_clean"] - m["corr"]
        metrics[f"norm_{name}"] = m["norm"]
        for key in m:  # an attack's per-clip details (the reference attack: norms to each threshold)
            if key.startswith(("l2_to_", "reached_")):
                kind, t = key.rsplit("_", 1)
                metrics[f"{name}_{kind}_{t}"] = m[key]
    return ProbeOutput(metrics, handoff=runs)


def headers(spec: Mapping[str, Any]) -> dict[str, str]:
    """Each attack's columns named by method, norm and eps (`L2-PGD eps 0.5`)."""
    out = {}
    for name, attack in spec.items():
        title = attack_title(attack)
        out |= {f"acc_{name}": title, f"corr_{name}": f"corr, {title}", f"mae_{name}": f"MAE, {title}"}
        out |= {f"corr_drop_{name}": f"corr drop, {title}", f"norm_{name}": f"L2 norm, {title}"}
        for t in attack.get("thresholds", ()):
            out[f"{name}_l2_to_{t:g}"] = f"L2 norm to corr <= {t:g}, {title}"
            out[f"{name}_reached_{t:g}"] = f"clips reaching corr <= {t:g}, {title}"
    return out


PROBE = register(
    Probe(
        key="attacks",
        run=run,
        description="performance under each configured attack",
        schema={
            "type": "object",
            "propertyNames": {
                "pattern": "^[A-Za-z0-9_]+$",
                "description": "expected a name of letters, digits and _",
            },
            "additionalProperties": {"$ref": "#/$defs/attack"},
        },
        after=("clean",),
        headers=headers,
        metrics=(
            Metric(
                "acc_{attack}", "percent", True, "accuracy under the named attack", ATTACKED_GATES, "{attack}"
            ),
            Metric(
                "corr_{attack}",
                "raw",
                True,
                "mean Pearson correlation under the named attack",
                REGRESSION_ATTACKED_GATES,
                "corr, {attack}",
            ),
            Metric(
                "mae_{attack}",
                "raw",
                False,
                "mean absolute error under the named attack",
                REGRESSION_ATTACKED_GATES,
                "MAE, {attack}",
            ),
            Metric(
                "corr_drop_{attack}",
                "raw",
                False,
                "clean correlation minus correlation under the attack",
                label="corr drop, {attack}",
            ),
            Metric(
                "norm_{attack}",
                "raw",
                None,
                "median L2 norm of the attack's perturbations",
                label="L2 norm, {attack}",
                group="sweep",
            ),
            Metric(
                "{attack}_l2_to_{threshold}",
                "raw",
                True,
                "median L2 norm of the perturbation at which a clip's correlation over its emotions first "
                "fell to the threshold, over the clips that got there (the MER reference attack)",
                label="L2 norm to corr <= {threshold}, {attack}",
                group="sweep",
            ),
            Metric(
                "{attack}_reached_{threshold}",
                "percent",
                False,
                "clips whose correlation over their emotions the attack pushed to the threshold",
                label="clips reaching corr <= {threshold}, {attack}",
                group="sweep",
            ),
        ),
    )
)
