"""Threat models shared by the attack probes: each attack probe files its per-example correctness under its
(norm, eps), so the AutoAttack probe can take the per-example worst case over every attack run there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from torch import Tensor

from irbench.evaluation import eps_label

Threat = tuple[str, float]  # (norm, eps)


def threat_of(attack: Mapping[str, Any]) -> Threat:
    """The threat model of an attack entry: its norm and eps (eps rounded so 4/255 written two ways match)."""
    return attack["norm"], round(float(attack["eps"]), 6)


def eps_text(norm: str, eps: float) -> str:
    """An eps as a reader writes it: L-inf in 1/255 where it is one (`4/255`), else its value (`0.5`)."""
    label = eps_label(eps) if norm == "linf" else f"{eps:g}"
    return f"{label}/255" if norm == "linf" and label != f"{eps:g}" else label


def threat_title(threat: Threat) -> str:
    """A threat model as a column header: `L2 0.5`, `L-inf 4/255`."""
    norm, eps = threat
    return f"{'L2' if norm == 'l2' else 'L-inf'} {eps_text(norm, eps)}"


def attack_title(attack: Mapping[str, Any]) -> str:
    """An attack entry as a column header: `L2-PGD eps 0.5`, `L-inf-BIM eps 0.001`, `FGSM eps 8/255` (or the
    attack's own `title`)."""
    from irbench.attacks import ATTACKS

    impl = ATTACKS.get(attack["method"])
    if impl.title is not None:
        return impl.title(attack)
    method = {"fgsm": "FGSM", "pgd": "PGD", "bim": "BIM"}.get(attack["method"], attack["method"])
    norm, eps = threat_of(attack)
    name = method if method == "FGSM" else f"{'L2' if norm == 'l2' else 'L-inf'}-{method}"
    return f"{name} eps {eps_text(norm, eps)}"


def threat_label(threat: Threat) -> str:
    """A threat model as a column suffix: `linf_8` (eps 8/255), `l2_0.5`."""
    norm, eps = threat
    return f"{norm}_{eps_label(eps) if norm == 'linf' else f'{eps:g}'}"


# How strong each attack method is, for the check that a stronger one never leaves higher accuracy.
STRENGTH = {"fgsm": 1, "bim": 2, "pgd": 2, "autoattack": 3}


@dataclass(frozen=True)
class Run:
    """One attack run at one threat model: its method and which scored examples it left correct."""

    method: str
    correct: Tensor


@dataclass
class AttackRuns:
    """What an attack probe (attacks, sweep, autoattack) hands on: its runs by threat model and name."""

    by_threat: dict[Threat, dict[str, Run]] = field(default_factory=dict)

    def file(self, attack: Mapping[str, Any], name: str, correct: Tensor) -> None:
        """Record which scored examples `name` (an attack under entry `attack`) left correctly classified."""
        runs = self.by_threat.setdefault(threat_of(attack), {})
        runs[name] = Run(attack["method"], correct.detach().bool())


def correct_by_threat(outputs: Mapping[str, Any]) -> dict[Threat, dict[str, Run]]:
    """Every earlier probe's attack runs, by threat model and `<probe>:<name>`."""
    out: dict[Threat, dict[str, Run]] = {}
    for key, output in outputs.items():
        if not isinstance(output.handoff, AttackRuns):
            continue
        for threat, runs in output.handoff.by_threat.items():
            for name, run in runs.items():
                out.setdefault(threat, {})[f"{key}:{name}"] = run
    return out
