"""AutoAttack (Croce & Hein 2020, the `pyautoattack` package its authors publish; what RobustBench runs)
at each configured threat model, on the first `n_images` scored images, and the per-example worst case
over every attack run at that threat model.

`version: standard` is AutoAttack's standard ensemble (APGD-CE, APGD-T, FAB-T, Square); `custom` runs the
listed `attacks` (quick scale: APGD-CE and APGD-T). Per threat model `<norm>_<eps>` (linf eps in 1/255):
`acc_aa_<threat>`, AutoAttack's robust accuracy, and `acc_robust_<threat>`, the accuracy left when an
image counts as broken if any attack at that threat model broke it (PGD and FGSM of the attacks and sweep
probes, and AutoAttack), on the same images. AutoAttack's own checks (randomised or softmax output, a
dynamic model, zero gradients, Square beating the white-box attacks) are recorded in the record's data
and counted in `aa_warnings`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import torch

from irbench.evaluation import predict
from irbench.probes import ATTACKED_GATES, Metric, Probe, ProbeContext, ProbeOutput, register
from irbench.probes._threats import (
    AttackRuns,
    correct_by_threat,
    threat_label,
    threat_of,
    threat_title,
)

AA_NORMS = {"linf": "Linf", "l2": "L2"}
AA_ATTACKS = ["apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"]


class _Collect(logging.Handler):
    """Keeps the warnings AutoAttack's checks log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def autoattack_correct(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    threat: Mapping[str, Any],
    spec: Mapping[str, Any],
    *,
    seed: int,
    batch_size: int,
    device: torch.device,
) -> tuple[torch.Tensor, list[str], dict[str, float]]:
    """Which of (x, y) AutoAttack leaves correctly classified at `threat` ({norm, eps}), the warnings its
    checks logged, and the robust accuracy after each of its attacks."""
    from pyautoattack import AutoAttack

    version = spec.get("version", "standard")
    kwargs = {"attacks": list(spec["attacks"])} if version == "custom" else {}
    adversary = AutoAttack(
        model,
        norm=AA_NORMS[threat["norm"]],
        eps=float(threat["eps"]),
        version=version,
        seed=seed,
        device=device,
        **kwargs,
    )
    if "n_iter" in spec:
        adversary.apgd.n_iter = adversary.apgd_targeted.n_iter = spec["n_iter"]
        adversary.fab.n_iter = spec["n_iter"]
    with torch.no_grad():
        n_classes = int(model(x[:1]).shape[1])
    targets = min(spec.get("n_target_classes", 9), n_classes - 1)
    adversary.apgd_targeted.n_target_classes = adversary.fab.n_target_classes = targets
    collect, stages = _Collect(), _Stages()
    adversary.logger.addHandler(collect)
    adversary.logger.addHandler(stages)
    level = adversary.logger.level
    adversary.logger.setLevel(logging.DEBUG)
    try:
        x_adv, _ = adversary.run_standard_evaluation(x, y, batch_size=batch_size)
    finally:
        adversary.logger.removeHandler(collect)
        adversary.logger.removeHandler(stages)
        adversary.logger.setLevel(level)
    correct = predict(model, x_adv, batch_size) == y
    return correct, collect.messages, stages.accuracy


class _Stages(logging.Handler):
    """Reads AutoAttack's 'robust accuracy after <ATTACK>: x%' debug lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.accuracy: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if text.startswith("robust accuracy after "):
            name, rest = text[len("robust accuracy after ") :].split(":", 1)
            self.accuracy[name.lower()] = float(rest.split("%")[0]) / 100


def run(ctx: ProbeContext, spec: Mapping[str, Any]) -> ProbeOutput:
    n = min(spec.get("n_images") or len(ctx.scored), len(ctx.scored))
    x, y = ctx.scored.x[:n], ctx.scored.y[:n]
    ctx.model.eval()
    clean = predict(ctx.model, x, ctx.batch_size) == y
    earlier = correct_by_threat(ctx.outputs)
    metrics: dict[str, float] = {}
    data: dict[str, Any] = {"n_images": n, "version": spec.get("version", "standard"), "threats": {}}
    runs = AttackRuns()
    warnings = 0
    for threat in spec["threats"]:
        key = threat_of(threat)
        label = threat_label(key)
        correct, messages, stages = autoattack_correct(
            ctx.model, x, y, threat, spec, seed=ctx.seed, batch_size=ctx.batch_size, device=ctx.device
        )
        worst = clean & correct
        others = {name: r.correct[:n] for name, r in earlier.get(key, {}).items()}
        for c in others.values():
            worst &= c
        metrics[f"acc_aa_{label}"] = correct.float().mean().item()
        metrics[f"acc_robust_{label}"] = worst.float().mean().item()
        runs.file({**threat, "method": "autoattack"}, "autoattack", correct)
        warnings += len(messages)
        data["threats"][label] = {
            "norm": threat["norm"],
            "eps": float(threat["eps"]),
            "after_each_attack": stages,
            "worst_case_over": ["autoattack", *others],
            "per_attack": {name: c.float().mean().item() for name, c in others.items()},
            "checks": messages,
        }
        ctx.log(
            f"autoattack {label}: {metrics[f'acc_aa_{label}']:.3f}, worst case over "
            f"{1 + len(others)} attacks {metrics[f'acc_robust_{label}']:.3f}; checks: {messages or 'none'}"
        )
    metrics["aa_warnings"] = float(warnings)
    return ProbeOutput(metrics, data=data, handoff=runs)


THREAT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["norm", "eps"],
    "properties": {
        "norm": {"enum": list(AA_NORMS), "description": "expected linf or l2"},
        "eps": {"type": "number", "exclusiveMinimum": 0, "description": "expected a positive number"},
    },
}


def headers(spec: Mapping[str, Any]) -> dict[str, str]:
    """Each threat model's columns named by norm and eps (`AutoAttack L-inf 4/255`)."""
    out = {}
    for t in spec["threats"]:
        threat = threat_of(t)
        label, title = threat_label(threat), threat_title(threat)
        out |= {f"acc_aa_{label}": f"AutoAttack {title}", f"acc_robust_{label}": f"worst case {title}"}
    return out


PROBE = register(
    Probe(
        key="autoattack",
        run=run,
        description="AutoAttack at each threat model, and the worst case over every attack run there",
        task="classification",
        after=("clean",),
        follows=("attacks", "sweep"),
        headers=headers,
        schema={
            "type": "object",
            "additionalProperties": False,
            "required": ["version", "threats"],
            "properties": {
                "version": {
                    "enum": ["standard", "custom"],
                    "description": "expected standard (APGD-CE, APGD-T, FAB-T, Square) or custom",
                },
                "attacks": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"enum": AA_ATTACKS, "description": f"expected one of {', '.join(AA_ATTACKS)}"},
                },
                "threats": {"type": "array", "minItems": 1, "items": THREAT},
                "n_images": {
                    "type": ["integer", "null"],
                    "minimum": 1,
                    "description": "expected a positive integer or null (every scored image)",
                },
                "n_iter": {"$ref": "#/$defs/positive_int"},
                "n_target_classes": {"$ref": "#/$defs/positive_int"},
            },
            "if": {"properties": {"version": {"const": "custom"}}},
            "then": {"required": ["attacks"]},
        },
        metrics=(
            Metric(
                "acc_aa_{threat}",
                "percent",
                True,
                "accuracy under AutoAttack at the threat model",
                ATTACKED_GATES,
                "AutoAttack {threat}",
            ),
            Metric(
                "acc_robust_{threat}",
                "percent",
                True,
                "robust accuracy: per image, the worst case over every attack run at the threat model "
                "(PGD, FGSM, AutoAttack), on AutoAttack's images",
                ATTACKED_GATES,
                "worst case {threat}",
            ),
            Metric(
                "aa_warnings",
                "raw",
                False,
                "warnings AutoAttack's own checks logged (all threat models)",
                label="AutoAttack warnings",
                group="checks",
            ),
        ),
    )
)
