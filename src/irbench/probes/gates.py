"""Gates: checks that the evaluation itself worked (Carlini et al. 2019, "On evaluating adversarial
robustness"; Pintor et al. 2022, "Indicators of attack failure"), one `gate_<check>` metric per check
(1 passed, 0 failed; absent where the study ran nothing to check). A claim whose metric declares a gate
that failed for either compared model gets "evaluation failed", "attack too weak" or "at chance" instead
of a verdict (irbench.claims).

Classifiers:
- `monotone`: along the sweep, accuracy never rises with eps (by more than `tolerance`);
- `order`: at each threat model a stronger attack never leaves higher accuracy than a weaker one
  (FGSM >= PGD/BIM >= AutoAttack, within `tolerance`, on the same images);
- `gradients`: no scored image has an all-zero input gradient of the logit margin (masked gradients);
- `large_eps`: PGD at a huge eps (`large_eps`, per norm the threat models use: L-inf 64/255, L2 8) leaves
  at most `large_eps_max_acc` accuracy;
- `above_chance`: clean accuracy exceeds chance (1 / classes) by `chance_se` binomial standard errors.
Regressors:
- `bite`: every configured attack lowers the clean correlation by at least `min_drop`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F

from irbench.evaluation import attack_correct
from irbench.probes import Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes._threats import STRENGTH, correct_by_threat, threat_label

DEFAULTS = {
    "tolerance": 0.01,
    "large_eps": {"linf": 64 / 255, "l2": 8.0},
    "large_eps_steps": 20,
    "large_eps_max_acc": 0.02,
    "n_images": 100,
    "chance_se": 3.0,
    "min_drop": 0.05,
}


def check_monotone(rows: list[Mapping[str, float]], tolerance: float) -> tuple[bool, list[str]]:
    """Accuracy (every `acc_*` column of the sweep rows) never rises with eps by more than `tolerance`, along
    each norm's rows."""
    bad = []
    for norm in dict.fromkeys(r.get("threat", "linf") for r in rows):
        line = sorted((r for r in rows if r.get("threat", "linf") == norm), key=lambda r: r["eps"])
        bad += [
            f"{k} ({norm}) rises from {a[k]:.3f} at eps {a['eps']:.4g} to {b[k]:.3f} at eps {b['eps']:.4g}"
            for a, b in zip(line, line[1:], strict=False)
            for k in a
            if k.startswith("acc_") and k in b and b[k] > a[k] + tolerance
        ]
    return not bad, bad


def check_order(runs: Mapping[str, Any], tolerance: float) -> tuple[bool, list[str]]:
    """At one threat model, no stronger attack leaves higher accuracy than a weaker one (same images)."""
    bad = []
    for name_a, a in runs.items():
        for name_b, b in runs.items():
            if STRENGTH.get(a.method, 0) >= STRENGTH.get(b.method, 0):
                continue
            n = min(len(a.correct), len(b.correct))
            acc_a, acc_b = a.correct[:n].float().mean().item(), b.correct[:n].float().mean().item()
            if acc_b > acc_a + tolerance:
                bad.append(f"{name_b} ({b.method}) {acc_b:.3f} > {name_a} ({a.method}) {acc_a:.3f}")
    return not bad, bad


def zero_gradient_images(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> int:
    """How many images have an all-zero input gradient of the logit margin (best other class minus true
    class). Unlike the cross-entropy, the margin does not saturate on confidently classified images, so a
    zero gradient means the model itself is flat there (masked gradients), not that it is sure."""
    zero = 0
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].clone().requires_grad_(True)
        logits, yb = model(xb), y[i : i + batch_size]
        true = logits.gather(1, yb[:, None]).squeeze(1)
        other = logits.masked_fill(F.one_hot(yb, logits.shape[1]).bool(), float("-inf")).amax(1)
        loss = (other - true).sum()
        (grad,) = torch.autograd.grad(loss, xb)
        zero += int((grad.flatten(1).abs().sum(1) == 0).sum())
    return zero


def large_eps_accuracy(ctx: ProbeContext, norm: str, eps: float, steps: int, n: int) -> float:
    """Accuracy under PGD (no random start, step 2.5 eps / steps) at a huge eps."""
    attack = {"method": "pgd", "norm": norm, "eps": eps, "steps": steps, "step": 2.5 * eps / steps}
    x, y = ctx.scored.x[:n], ctx.scored.y[:n]
    correct = attack_correct(ctx.model, x, y, attack, batch_size=ctx.batch_size, generator=ctx.generator)
    return correct.float().mean().item()


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    s = {**DEFAULTS, **spec, "large_eps": {**DEFAULTS["large_eps"], **spec.get("large_eps", {})}}
    gates: dict[str, bool] = {}
    details: dict[str, Any] = {}
    if ctx.task == "regression":
        drops = {
            k: v
            for k, v in ctx.outputs.get("attacks", ProbeOutput()).metrics.items()
            if k.startswith("corr_drop_")
        }
        if drops:
            gates["bite"] = all(v >= s["min_drop"] for v in drops.values())
            details["bite"] = {"min_drop": s["min_drop"], "drops": drops}
        return _output(gates, details, ctx)
    ctx.model.eval()
    if "sweep" in ctx.outputs:
        gates["monotone"], details["monotone"] = check_monotone(ctx.outputs["sweep"].data, s["tolerance"])
    runs = correct_by_threat(ctx.outputs)
    order = {threat_label(t): check_order(r, s["tolerance"]) for t, r in runs.items() if len(r) > 1}
    if order:
        gates["order"] = all(ok for ok, _ in order.values())
        details["order"] = {label: why for label, (_, why) in order.items()}
    n = min(s["n_images"], len(ctx.scored))
    zero = zero_gradient_images(ctx.model, ctx.scored.x[:n], ctx.scored.y[:n], ctx.batch_size)
    gates["gradients"], details["gradients"] = zero == 0, {"zero_gradient_images": zero, "of": n}
    norms = sorted({norm for norm, _ in runs})
    if norms:
        accs = {
            norm: large_eps_accuracy(ctx, norm, s["large_eps"][norm], s["large_eps_steps"], n)
            for norm in norms
        }
        gates["large_eps"] = all(a <= s["large_eps_max_acc"] for a in accs.values())
        details["large_eps"] = {
            norm: {"eps": s["large_eps"][norm], "accuracy": a, "max": s["large_eps_max_acc"]}
            for norm, a in accs.items()
        }
    if "clean" in ctx.outputs and "acc_clean" in ctx.outputs["clean"].metrics:
        acc, k = ctx.outputs["clean"].metrics["acc_clean"], ctx.test.meta.get("n_classes", 0)
        if k:
            chance = 1 / k
            bar = chance + s["chance_se"] * math.sqrt(chance * (1 - chance) / len(ctx.scored))
            gates["above_chance"] = acc > bar
            details["above_chance"] = {"accuracy": acc, "chance": chance, "bar": bar}
    return _output(gates, details, ctx)


def _output(gates: Mapping[str, bool], details: Mapping[str, Any], ctx: ProbeContext) -> ProbeOutput:
    failed = [g for g, ok in gates.items() if not ok]
    ctx.log(
        f"gates: {len(gates) - len(failed)}/{len(gates)} passed" + (f"; failed: {failed}" if failed else "")
    )
    for g in failed:
        ctx.log(f"gate {g}: {details[g]}")
    return ProbeOutput({f"gate_{g}": float(ok) for g, ok in gates.items()}, data=dict(details))


NUMBER = {"type": "number", "minimum": 0, "description": "expected a non-negative number"}

PROBE = register(
    Probe(
        key="gates",
        group="checks",
        run=run,
        description="checks that the evaluation worked (monotone sweep, attack order, gradients, huge eps, "
        "above chance; for regressors, that the attack bites)",
        after=("clean",),
        follows=("attacks", "sweep", "autoattack"),
        schema={
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "tolerance": NUMBER,
                "large_eps": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"linf": NUMBER, "l2": NUMBER},
                },
                "large_eps_steps": {"$ref": "#/$defs/positive_int"},
                "large_eps_max_acc": {"$ref": "#/$defs/probability"},
                "n_images": {"$ref": "#/$defs/positive_int"},
                "chance_se": NUMBER,
                "min_drop": NUMBER,
            },
        },
        metrics=(
            Metric(
                "gate_monotone",
                "percent",
                True,
                "seeds whose accuracy never rose with eps along the sweep",
                label="gate: monotone",
            ),
            Metric(
                "gate_order",
                "percent",
                True,
                "seeds where no stronger attack left higher accuracy",
                label="gate: order",
            ),
            Metric(
                "gate_gradients",
                "percent",
                True,
                "seeds with no all-zero input gradient",
                label="gate: gradients",
            ),
            Metric(
                "gate_large_eps",
                "percent",
                True,
                "seeds where PGD at a huge eps left at most 2% accuracy",
                label="gate: large eps",
            ),
            Metric(
                "gate_above_chance",
                "percent",
                True,
                "seeds whose clean accuracy is above chance",
                label="gate: above chance",
            ),
            Metric(
                "gate_bite",
                "percent",
                True,
                "seeds where every attack lowered the correlation enough",
                label="gate: bite",
            ),
        ),
    )
)
