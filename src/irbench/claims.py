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

from irbench.power import Power, claim_power

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


PRIMARY, SECONDARY = "primary", "secondary (exploratory)"
NEGATIVE, POSITIVE = "negative control", "positive control"
FAMILY_WORDS = {
    PRIMARY: "the paper's headline claims, declared in reference.yaml before any run (`primary: true`); "
    "Holm's correction runs over them alone, so a run's seeds are sized for them",
    SECONDARY: "every other claim: Holm-adjusted as their own family, labelled exploratory",
    NEGATIVE: "each variant of a primary claim against itself, its first half of seeds paired with its "
    "second (no training): a correct harness leaves it inconclusive; decided, seeds are not exchangeable",
    POSITIVE: "an effect the synthetic data plant (reference.yaml `controls`): a harness that works finds it",
}


@dataclass(frozen=True)
class ClaimResult:
    """One claim on one dataset: the paired differences (claim direction positive), the verdict and what
    the run could detect."""

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
    family: str = PRIMARY
    power: Power | None = None  # None where no test ran (a gate veto, fewer than 2 seeds)

    @property
    def n_pairs(self) -> int:
        return len(self.diffs)

    @property
    def decided(self) -> bool:
        return self.verdict in (HOLDS, FAILS)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def t_interval(diffs: Sequence[float], level: float = LEVEL) -> tuple[float, float, float]:
    """Two-sided Student t interval of the mean of `diffs` and the paired t-test p-value (H0: mean 0).

    Differences with no spread carry no estimate of their variance, so they must not decide a claim: they
    give a point interval and p = 1 (on quantised metrics equal differences are common)."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.size < 2:
        raise ValueError(f"a t interval needs at least 2 paired differences, got {d.size}")
    mean, se = float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))
    if se <= 1e-12 * max(1.0, abs(mean)):
        return mean, mean, 1.0
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


@dataclass(frozen=True)
class _Draft:
    """A claim's paired differences on one dataset, before the family's Holm correction."""

    dataset: str
    spec: Mapping[str, Any]
    seeds: tuple[int, ...]
    diffs: np.ndarray
    forced: str | None  # the verdict a failed gate forces
    notes: tuple[str, ...]
    family: str
    worse: str


def _series(per_seed: pd.DataFrame, variant: str, metric: str) -> pd.Series | None:
    key = (metric, variant)
    return per_seed[key] if key in per_seed else None


def _draft(
    dataset: str, rows: pd.DataFrame, c: Mapping[str, Any], gates_of: Mapping[str, Sequence[str]], family: str
) -> _Draft | None:
    """Pair a claim's two sides by seed on one dataset (None: a side is missing). A side is a variant's
    metric (`worse`, with `worse_metric` when it is another column) or a constant (`against`)."""
    metrics = [c["metric"], c.get("worse_metric", c["metric"])]
    if any(m not in rows.columns for m in metrics):
        return None
    per_seed = rows.pivot_table(index="seed", columns="variant", values=list(dict.fromkeys(metrics)))
    if not isinstance(per_seed.columns, pd.MultiIndex):  # one metric: pandas drops the level
        per_seed.columns = pd.MultiIndex.from_product([[metrics[0]], per_seed.columns])
    better = _series(per_seed, c["better"], metrics[0])
    if "against" in c:
        worse, worse_name = pd.Series(float(c["against"]), index=per_seed.index), f"{c['against']:g}"
    else:
        worse, worse_name = _series(per_seed, c["worse"], metrics[1]), c["worse"]
    if better is None or worse is None:
        return None
    pairs = pd.concat([better, worse], axis=1).dropna()
    if pairs.empty:
        return None
    sign = 1.0 if c.get("higher_is_better", True) else -1.0
    diffs = sign * (pairs.iloc[:, 0] - pairs.iloc[:, 1]).to_numpy()
    variants = [c["better"]] + ([c["worse"]] if "worse" in c else [])
    paired_rows = rows[rows["variant"].isin(variants) & rows["seed"].isin(pairs.index)]
    # a claim may name its gates (`gates`), e.g. a control that itself checks that an attack bites
    gates = c["gates"] if "gates" in c else sorted({g for m in metrics for g in gates_of.get(m, ())})
    forced, notes = gate_verdict(paired_rows, gates)
    seeds = tuple(int(s) for s in pairs.index)
    return _Draft(str(dataset), c, seeds, diffs, forced, tuple(notes), family, worse_name)


def _decide(study: str, drafts: Sequence[_Draft]) -> list[ClaimResult]:
    """t intervals, Holm within each family, verdicts, power and notes."""
    tested = [i for i, d in enumerate(drafts) if d.forced is None and len(d.diffs) >= 2]
    tests = {i: t_interval(drafts[i].diffs) for i in tested}
    adjusted: dict[int, float] = {}
    size: dict[str, int] = {}
    for family in dict.fromkeys(d.family for d in drafts):
        members = [i for i in tested if drafts[i].family == family]
        size[family] = len(members)
        adjusted.update(zip(members, holm([tests[i][2] for i in members]), strict=True))
    out = []
    for i, d in enumerate(drafts):
        low, high, p = tests.get(i, (np.nan, np.nan, np.nan))
        notes, pw = list(d.notes), None
        n = len(d.diffs)
        if i in tests:
            sd = float(np.std(d.diffs, ddof=1))
            pw = claim_power(sd if high > low else 0.0, float(d.diffs.mean()), n, size[d.family])
            word = verdict(float(d.diffs.mean()), adjusted[i])
            if high == low:
                notes.append(f"the {n} differences are equal (no spread): no t test can decide")
            elif word == INCONCLUSIVE:
                if low > 0 or high < 0:
                    notes.append(f"the interval excludes 0 before Holm's correction (unadjusted p = {p:.3g})")
                notes.append(pw.note(n))
        else:
            word = d.forced or TOO_FEW
        if n < LOW_POWER_BELOW:
            notes.append(f"low power (n = {n} < {LOW_POWER_BELOW})")
        out.append(
            ClaimResult(
                study=study,
                dataset=d.dataset,
                claim=d.spec["claim"],
                metric=d.spec["metric"],
                better=d.spec["better"],
                worse=d.worse,
                seeds=d.seeds,
                diffs=tuple(float(x) for x in d.diffs),
                mean_diff=float(d.diffs.mean()),
                ci_low=float(low),
                ci_high=float(high),
                p_value=float(p),
                p_holm=float(adjusted.get(i, np.nan)),
                verdict=word,
                notes=tuple(notes),
                family=d.family,
                power=pw,
            )
        )
    return out


def _applies(c: Mapping[str, Any], dataset: str) -> bool:
    return "datasets" not in c or dataset in c["datasets"]


def evaluate_claims(
    records: pd.DataFrame,
    study: str,
    claims: Sequence[Mapping[str, Any]],
    gates_of: Mapping[str, Sequence[str]] | None = None,
) -> list[ClaimResult]:
    """Every claim on every dataset of `records` (one row per dataset, variant and seed) that has both
    sides and the metric; claims whose data are missing are skipped. `gates_of` maps a metric to the gate
    checks it needs (default: the metric's declaration). p-values are Holm-adjusted within the study's
    primary claims (`primary: true`) and, separately, within its secondary ones."""
    gates_of = gates_of if gates_of is not None else _declared_gates(records)
    drafts = []
    for dataset, rows in records.groupby("dataset", sort=False):
        for c in claims:
            family = PRIMARY if c.get("primary", False) else SECONDARY
            d = _draft(str(dataset), rows, c, gates_of, family) if _applies(c, str(dataset)) else None
            if d is not None:
                drafts.append(d)
    return _decide(study, drafts)


def negative_control_drafts(
    records: pd.DataFrame, claims: Sequence[Mapping[str, Any]], gates_of: Mapping[str, Sequence[str]]
) -> list[_Draft]:
    """Per dataset and primary claim: the claim's variants each against itself, seeds of the first half
    paired in order with those of the second (an odd last seed left out), the differences of both
    variants pooled. Exchangeable seeds give no effect; anything the harness does by seed order shows."""
    drafts = []
    for dataset, rows in records.groupby("dataset", sort=False):
        for c in claims:
            if not c.get("primary", False) or c["metric"] not in rows or not _applies(c, str(dataset)):
                continue
            variants = [v for v in (c["better"], c.get("worse")) if v is not None]
            diffs, seeds, notes, forced = [], [], [], None
            for v in variants:
                vals = rows[rows["variant"] == v].set_index("seed")[c["metric"]].dropna().sort_index()
                half = len(vals) // 2
                first, second = vals.iloc[:half], vals.iloc[half : 2 * half]
                diffs += list(first.to_numpy() - second.to_numpy())
                seeds += [int(s) for s in first.index]
                own = rows[(rows["variant"] == v) & rows["seed"].isin(vals.index[: 2 * half])]
                word, why = gate_verdict(own, gates_of.get(c["metric"], ()))
                forced, notes = forced or word, notes + why
            if len(diffs) < 2:
                continue
            spec = {
                "claim": f"{' and '.join(variants)} against themselves, first half of seeds vs second "
                f"({c['metric']})",
                "metric": c["metric"],
                "better": "/".join(variants),
            }
            drafts.append(
                _Draft(
                    str(dataset),
                    spec,
                    tuple(seeds),
                    np.asarray(diffs),
                    forced,
                    tuple(notes),
                    NEGATIVE,
                    "self",
                )
            )
    return drafts


def evaluate_controls(
    records: pd.DataFrame,
    study: str,
    claims: Sequence[Mapping[str, Any]],
    positive: Sequence[Mapping[str, Any]] = (),
    gates_of: Mapping[str, Sequence[str]] | None = None,
) -> list[ClaimResult]:
    """The study's negative controls (from its primary claims) and positive controls (`positive`, each
    restricted to the datasets that plant it), each family Holm-adjusted on its own."""
    gates_of = gates_of if gates_of is not None else _declared_gates(records)
    drafts = negative_control_drafts(records, claims, gates_of)
    for dataset, rows in records.groupby("dataset", sort=False):
        for c in positive:
            d = _draft(str(dataset), rows, c, gates_of, POSITIVE) if _applies(c, str(dataset)) else None
            if d is not None:
                drafts.append(d)
    return _decide(study, drafts)


def control_failures(controls: Sequence[ClaimResult]) -> list[str]:
    """Why a study's verdicts cannot be trusted (empty: every control behaved): a negative control that was
    decided, a positive control that did not hold."""
    out = []
    for c in controls:
        if c.family == NEGATIVE and c.decided:
            out.append(f"negative control {c.dataset} {c.claim}: {c.verdict} (p Holm {c.p_holm:.3g})")
        elif c.family == POSITIVE and c.verdict != HOLDS:
            out.append(f"positive control {c.dataset} {c.claim}: {c.verdict}")
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


def seed_plan(cfg: Mapping[str, Any], overridden: Sequence[str] = ()) -> list[str]:
    """The lines said when a run starts: per study, what its configured seeds can detect in the Holm family
    of its primary claims (so a campaign is sized before it is submitted), and the scale's keys that the
    user's layers replaced."""
    from irbench.config import study_seeds
    from irbench.power import detectable_line
    from irbench.tables import paper_reference

    lines = []
    for study in cfg["studies"]:
        claims = paper_reference(study).get("claims", [])
        datasets = cfg[study]["datasets"]
        family = sum(1 for c in claims if c.get("primary", False) for d in datasets if _applies(c, d))
        lines.append(detectable_line(study, len(study_seeds(cfg, study)), max(family, 1)))
    if overridden:
        lines.append(f"irbench: your configuration replaced these keys of the scale: {', '.join(overridden)}")
    return lines
