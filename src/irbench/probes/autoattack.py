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

AutoAttack's per-image state (which images its attacks have left correctly classified) is kept after each
of its attacks, atomically, in the job's scratch folder: an evaluate job killed inside AutoAttack resumes
after the last finished attack, and its record equals an uninterrupted run's (each attack seeds itself,
and attacks the same images in the same batches either way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from irbench.evaluation import predict
from irbench.io import read_json, write_json
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
SQUARE_WARNING = "Square Attack has decreased the robust accuracy"


class _Collect(logging.Handler):
    """Keeps the warnings AutoAttack's checks log."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load_state(path: Path, attacks: list[str], n: int, log) -> dict[str, Any] | None:
    """The progress an interrupted run of the same AutoAttack kept in `path`; one that cannot be read, or
    was kept for other attacks or images, is removed and the run starts over."""
    if not path.is_file():
        return None
    try:
        saved = read_json(path)
        if saved["attacks"] != attacks or len(saved["correct"]) != n:
            raise ValueError("kept for other attacks or images")
        return saved
    except Exception as exc:  # noqa: BLE001 - a damaged state costs the attacks done, never the job
        log(f"autoattack: state {path.name} not used ({type(exc).__name__}: {exc}); starting over")
        path.unlink(missing_ok=True)
        return None


@dataclass(frozen=True)
class AutoAttackResult:
    """Which images AutoAttack left correctly classified (its per-image robust flags), the warnings its
    checks logged, the robust accuracy after each attack, and the attacks taken from a saved state."""

    correct: torch.Tensor
    warnings: list[str]
    after_each: dict[str, float]
    resumed: list[str]


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
    state: Path | None = None,
    log: Callable[[str], None] = print,
) -> AutoAttackResult:
    """Run AutoAttack on (x, y) at `threat` ({norm, eps}), one of its attacks at a time on the images the
    earlier ones left correctly classified, as its own loop does (the same images in the same batches,
    each attack seeding itself). With `state` (a file), the per-image flags are kept there after each
    attack, atomically, and a rerun resumes after the last finished one. (pyautoattack's own `state_path`
    saves after every batch, so a resume repeats half an attack on other batches, and its resume fails
    once an attack succeeds: `y_adv` is unset in 0.2.0.)"""
    from pyautoattack import AutoAttack
    from pyautoattack.checks import check_square_sr

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
    if "n_queries" in spec:
        adversary.square.n_queries = spec["n_queries"]
    with torch.no_grad():
        n_classes = int(model(x[:1]).shape[1])
    targets = min(spec.get("n_target_classes", 9), n_classes - 1)
    adversary.apgd_targeted.n_target_classes = adversary.fab.n_target_classes = targets
    attacks = list(adversary.attacks_to_run)
    saved = _load_state(state, attacks, len(y), log) if state is not None else None
    if saved is not None:
        correct = torch.tensor(saved["correct"], dtype=torch.bool, device=y.device)
        after_each, resumed = dict(saved["after_each"]), list(saved["after_each"])
    else:
        correct, after_each, resumed = predict(model, x, batch_size) == y, {}, []
    clean = saved["clean"] if saved is not None else correct.float().mean().item()
    collect = _Collect()
    adversary.logger.addHandler(collect)
    try:
        for attack in attacks:
            if attack in after_each:
                continue
            if correct.any():  # as AutoAttack's loop: the rest are skipped once nothing is left
                idx = correct.nonzero().flatten()
                adversary.attacks_to_run = [attack]
                _, y_adv = adversary.run_standard_evaluation(x[idx], y[idx], batch_size=batch_size)
                correct[idx] = y_adv.to(y.device) == y[idx]
                after_each[attack] = correct.float().mean().item()
            if state is not None:
                progress = {"attacks": attacks, "clean": clean, "after_each": after_each}
                write_json({**progress, "correct": correct.tolist()}, state)
    finally:
        adversary.logger.removeHandler(collect)
    # the checks ran once per attack: keep each warning once, in order; Square's (did it beat the
    # white-box attacks?) needs every attack's accuracy, so it is made here on all of them
    warnings = [m for m in dict.fromkeys(collect.messages) if not m.startswith(SQUARE_WARNING)]
    square = _Collect()
    square_logger = logging.getLogger("irbench.autoattack.square")
    square_logger.propagate = False
    square_logger.addHandler(square)
    try:
        check_square_sr({"clean": clean, **after_each}, logger=square_logger)
    finally:
        square_logger.removeHandler(square)
    return AutoAttackResult(correct, warnings + square.messages, after_each, resumed)


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
        state = ctx.scratch / f"autoattack_{label}.json" if ctx.scratch is not None else None
        result = autoattack_correct(
            ctx.model,
            x,
            y,
            threat,
            spec,
            seed=ctx.seed,
            batch_size=ctx.batch_size,
            device=ctx.device,
            state=state,
            log=ctx.log,
        )
        if result.resumed:
            ctx.log(
                f"autoattack {label}: resumed after {', '.join(result.resumed)} (its saved per-image state)"
            )
        correct, messages, stages = result.correct, result.warnings, result.after_each
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
                "n_queries": {"$ref": "#/$defs/positive_int"},
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
