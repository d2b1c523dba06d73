"""The papers' claims, tested over seeds: paired differences, a Student t interval, Holm's correction and a
verdict that a failed evaluation can veto.

A claim says one variant beats another on one metric (higher or lower is better). Per dataset, the
per-seed values of the two variants are paired by seed; the paired differences (oriented so that positive
means the claim's direction) get a two-sided 95% Student t interval and a paired t-test p-value. The
p-values of a study's claims are Holm-adjusted together. The verdict: `holds` when the adjusted p is below
0.05 and the mean difference is positive, `does not hold` when it is below 0.05 and negative, else
`inconclusive`. The t interval is exact for normal differences at every n >= 2: under no effect a claim
"holds" at most 2.5% of the time (tests/test_claims.py simulates it; a percentile bootstrap does not keep
that at small n). With fewer than 5 seeds the claim carries "low power".

Before any of that, the gates (`gate_<check>` columns written by the gates probe, 1 = passed) of both
variants must have passed on every paired seed for the checks that the claim's metric declares
(`Metric.gates`); a failed gate replaces the verdict with the gate's word ("evaluation failed",
"attack too weak", "at chance").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
TOO_FEW = "too few seeds"
EVAL_FAILED, TOO_WEAK, AT_CHANCE = "evaluation failed", "attack too weak", "at chance"
LEVEL = 0.95
LOW_POWER_BELOW = 5  # seeds: fewer than this and a null verdict says little
# The gates the claims read (written by the gates probe) and the verdict each failure gives.
GATE_VERDICTS = {
    "monotone": EVAL_FAILED,  # accuracy rises with eps somewhere along the sweep
    "order": EVAL_FAILED,  # a stronger attack leaves higher accuracy than a weaker one
    "gradients": EVAL_FAILED,  # zero input gradients: gradient attacks cannot work
    "large_eps": TOO_WEAK,  # a huge perturbation does not bring accuracy to ~0
    "bite": TOO_WEAK,  # the attack barely moves a regressor's metric
    "above_chance": AT_CHANCE,  # the model's clean accuracy is not above chance
}
VERDICT_WORDS = {
    HOLDS: "the 95% t interval of the paired differences excludes 0 on the claim's side and the "
    "Holm-adjusted p < 0.05",
    FAILS: "the same, on the opposite side: the data contradict the claim",
    INCONCLUSIVE: "the interval includes 0 (or Holm's correction lifts p above 0.05): no verdict either way",
    TOO_FEW: "fewer than 2 paired seeds: no interval can be formed",
    EVAL_FAILED: "a gate on the evaluation failed for a compared model (e.g. accuracy rose with eps, "
    "a stronger attack did worse than a weaker one, zero input gradients): the metric is not evidence",
    TOO_WEAK: "the attack did not work well enough to decide the claim (a regressor's metric moved less "
    "than the configured amount, or a huge eps left accuracy above 2%)",
    AT_CHANCE: "a compared model's clean accuracy is not above chance: differences are noise",
    "low power": f"fewer than {LOW_POWER_BELOW} seeds: an 'inconclusive' says little, and only large effects "
    "can be called",
}


@dataclass(frozen=True)
class ClaimResult:
    """One claim on one dataset: the paired differences (claim direction positive) and the verdict."""

    study: str
    dataset: str
    claim: str
    metric: str
    better: str
    worse: str
    seeds: tuple[int, ...]
    diffs: tuple[float, ...]  # per seed, in the metric's stored units (fractions for percent metrics)
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    p_holm: float
    verdict: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_pairs(self) -> int:
        return len(self.diffs)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def t_interval(diffs: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """Two-sided Student t interval of the mean of `diffs` and the paired t-test p-value (H0: mean 0).

    Differences with no spread give a point interval (p 0 unless they are all 0)."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.size < 2:
        raise ValueError(f"a t interval needs at least 2 paired differences, got {d.size}")
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))
    if se == 0.0:
        return mean, mean, 1.0 if mean == 0.0 else 0.0
    half = float(stats.t.ppf(0.5 + level / 2, df=d.size - 1)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, df=d.size - 1))
    return mean - half, mean + half, p


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (family-wise error control over the given tests)."""
    p = np.asarray(p_values, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (p.size - rank) * p[i]))
        adjusted[i] = running
    return adjusted.tolist()


def verdict(mean: float, p_adjusted: float, alpha: float = 1 - LEVEL) -> str:
    """holds / does not hold / inconclusive from the oriented mean difference and its adjusted p-value."""
    if p_adjusted < alpha:
        return HOLDS if mean > 0 else FAILS
    return INCONCLUSIVE


def gate_verdict(pairs: pd.DataFrame, gates: Sequence[str]) -> tuple[str | None, list[str]]:
    """The verdict a failed gate forces on a claim (None: all present gates passed) and why.

    `pairs` holds the paired seeds' rows of both variants, with their `gate_<check>` columns."""
    failed: list[str] = []
    words: set[str] = set()
    for check in gates:
        col = f"gate_{check}"
        if col not in pairs:
            continue
        bad = pairs[pairs[col].notna() & (pairs[col] < 1)]
        if bad.empty:
            continue
        who = ", ".join(f"{v} seed {s}" for v, s in zip(bad["variant"], bad["seed"], strict=True))
        failed.append(f"gate {check} failed: {who}")
        words.add(GATE_VERDICTS[check])
    word = next((w for w in (EVAL_FAILED, TOO_WEAK, AT_CHANCE) if w in words), None)
    return word, failed


def evaluate_claims(
    records: pd.DataFrame,
    study: str,
    claims: Sequence[Mapping[str, Any]],
    gates_of: Mapping[str, Sequence[str]] | None = None,
) -> list[ClaimResult]:
    """Every claim on every dataset of `records` (one row per dataset, variant and seed) that has both
    variants and the metric; claims whose data are missing are skipped. `gates_of` maps a metric to the
    gate checks it needs (default: the metric's declaration). p-values are Holm-adjusted over the study."""
    gates_of = gates_of if gates_of is not None else _declared_gates(records)
    drafts = []
    for dataset, rows in records.groupby("dataset", sort=False):
        for c in claims:
            if c["metric"] not in rows.columns:
                continue
            per_seed = rows.pivot_table(index="seed", columns="variant", values=c["metric"])
            if c["better"] not in per_seed or c["worse"] not in per_seed:
                continue
            pairs = per_seed[[c["better"], c["worse"]]].dropna()
            if pairs.empty:
                continue
            sign = 1.0 if c.get("higher_is_better", True) else -1.0
            diffs = sign * (pairs[c["better"]] - pairs[c["worse"]]).to_numpy()
            paired_rows = rows[
                rows["variant"].isin([c["better"], c["worse"]]) & rows["seed"].isin(pairs.index)
            ]
            forced, notes = gate_verdict(paired_rows, gates_of.get(c["metric"], ()))
            drafts.append((str(dataset), c, tuple(int(s) for s in pairs.index), diffs, forced, notes))
    tested = [i for i, d in enumerate(drafts) if d[4] is None and len(d[3]) >= 2]
    tests = {i: t_interval(drafts[i][3]) for i in tested}
    adjusted = dict(zip(tested, holm([tests[i][2] for i in tested]), strict=True))
    out = []
    for i, (dataset, c, seeds, diffs, forced, notes) in enumerate(drafts):
        low, high, p = tests.get(i, (np.nan, np.nan, np.nan))
        if i in tests:
            word = verdict(float(diffs.mean()), adjusted[i])
            if word == INCONCLUSIVE and (low > 0 or high < 0):
                notes = [*notes, f"the interval excludes 0 before Holm's correction (unadjusted p = {p:.3g})"]
        else:
            word = forced or TOO_FEW
        if len(diffs) < LOW_POWER_BELOW:
            notes = [*notes, f"low power (n = {len(diffs)} < {LOW_POWER_BELOW})"]
        out.append(
            ClaimResult(
                study=study,
                dataset=dataset,
                claim=c["claim"],
                metric=c["metric"],
                better=c["better"],
                worse=c["worse"],
                seeds=seeds,
                diffs=tuple(float(x) for x in diffs),
                mean_diff=float(diffs.mean()),
                ci_low=float(low),
                ci_high=float(high),
                p_value=float(p),
                p_holm=float(adjusted.get(i, np.nan)),
                verdict=word,
                notes=tuple(notes),
            )
        )
    return out


def _declared_gates(records: pd.DataFrame) -> dict[str, tuple[str, ...]]:
    """The gate checks each metric column declares (an undeclared column needs none)."""
    from irbench.errors import IrbenchError
    from irbench.tables import describe

    out = {}
    for col in records.columns:
        try:
            out[col] = describe(col).gates
        except IrbenchError:  # identifiers and columns no probe declares
            continue
    return out
