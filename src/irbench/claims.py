"""The papers' claims, tested over seeds: paired differences, a bootstrap 95% interval and a verdict.

A claim says one variant beats another on one metric (higher or lower is better). Per dataset, the
per-seed values of the two variants are paired by seed; the mean paired difference (oriented so that
positive means the claim's direction) gets a percentile bootstrap interval over seeds. The verdict:
`holds` when the whole interval is above zero, `does not hold` when it is below, else `inconclusive`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

HOLDS, FAILS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"


@dataclass(frozen=True)
class ClaimResult:
    """One claim on one dataset: the paired difference (claim direction positive) and its verdict."""

    study: str
    dataset: str
    claim: str
    metric: str
    better: str
    worse: str
    n_pairs: int
    mean_diff: float
    ci_low: float
    ci_high: float
    verdict: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_ci(
    diffs: Sequence[float], *, n_boot: int = 10_000, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of `diffs` (resampling seeds with replacement)."""
    d = np.asarray(diffs, dtype=np.float64)
    if d.size == 0:
        raise ValueError("no paired differences to bootstrap")
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def verdict(ci_low: float, ci_high: float) -> str:
    """holds / does not hold / inconclusive from an interval of the oriented difference."""
    if ci_low > 0:
        return HOLDS
    if ci_high < 0:
        return FAILS
    return INCONCLUSIVE


def evaluate_claims(
    records: pd.DataFrame, study: str, claims: Sequence[Mapping[str, Any]], *, n_boot: int = 10_000
) -> list[ClaimResult]:
    """Every claim on every dataset of `records` (one row per dataset, variant and seed) that has both
    variants and the metric; claims whose data are missing are skipped."""
    out = []
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
            low, high = bootstrap_ci(diffs, n_boot=n_boot)
            out.append(
                ClaimResult(
                    study=study,
                    dataset=str(dataset),
                    claim=c["claim"],
                    metric=c["metric"],
                    better=c["better"],
                    worse=c["worse"],
                    n_pairs=len(diffs),
                    mean_diff=float(diffs.mean()),
                    ci_low=low,
                    ci_high=high,
                    verdict=verdict(low, high),
                )
            )
    return out
