"""Statistical power of the paired t-test the claims use: what a run of n seeds can detect, and how many
seeds an observed effect would need.

Effects are standardised as d = mean / sd of the paired differences (the paired t statistic is
d * sqrt(n)). A claim in a Holm family of m claims is sure to be called once its p is below alpha / m
(Holm's first, strictest step), so power is computed at that level: the detectable effect is the one
found at least `POWER` of the time whatever the family's other claims do.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from scipy import integrate, optimize, special, stats

POWER = 0.8
ALPHA = 0.05
MAX_SEEDS = 1000  # seeds_needed gives up here (an effect this small is no effect a campaign can chase)


def t_power(d: float, n: int, alpha: float) -> float:
    """Power of the two-sided paired t-test of n differences at standardised effect d and level alpha."""
    if n < 2:
        return 0.0
    df = n - 1
    crit = float(special.stdtrit(df, 1 - alpha / 2))
    nc = abs(d) * math.sqrt(n)
    fast = float(1 - special.nctdtr(df, nc, crit) + special.nctdtr(df, nc, -crit))
    if math.isfinite(fast):
        return min(1.0, fast)
    # scipy's noncentral t returns NaN at the large nc a few seeds need: T = (Z + nc) / sqrt(V / df),
    # V ~ chi2(df), so integrate the normal tails over V instead

    def tails(v: float) -> float:
        scaled = crit * math.sqrt(v / df)
        return float(stats.norm.sf(scaled - nc) + stats.norm.cdf(-scaled - nc)) * float(stats.chi2.pdf(v, df))

    lo, mid, hi = (float(stats.chi2.ppf(q, df)) for q in (1e-12, 0.5, 1 - 1e-12))
    area = integrate.quad(tails, lo, mid, limit=200)[0] + integrate.quad(tails, mid, hi, limit=200)[0]
    return min(1.0, float(area))


@functools.lru_cache(maxsize=1024)
def detectable_d(n: int, alpha: float, power: float = POWER) -> float:
    """The smallest standardised effect the test finds with probability `power` (inf below 2 seeds)."""
    if n < 2:
        return math.inf
    hi = 1.0
    while t_power(hi, n, alpha) < power:
        hi *= 2
        if hi > 1e6:
            return math.inf
    return float(optimize.brentq(lambda d: t_power(d, n, alpha) - power, 0.0, hi, xtol=1e-6))


def seeds_needed(d: float, alpha: float, power: float = POWER, max_n: int = MAX_SEEDS) -> int | None:
    """The fewest seeds at which effect d is found with probability `power` (None: more than max_n).

    The z test's n ((z_alpha/2 + z_power) / d)^2 is a lower bound (the t test has less power at every n),
    so the search starts there and steps up."""
    if not math.isfinite(d) or d == 0:
        return None
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    n = max(2, math.floor((z / abs(d)) ** 2))
    while n <= max_n:
        if t_power(d, n, alpha) >= power:
            return n
        n += 1
    return None


@dataclass(frozen=True)
class Power:
    """What one claim's run could detect: at its seeds and Holm family, the smallest standardised effect
    (and in the claim's units, at the observed spread), the observed standardised effect and the seeds it
    would need."""

    family_size: int
    alpha: float  # the level a claim must beat to be sure of a call: ALPHA / family_size
    detectable_d: float
    detectable_effect: float  # detectable_d * observed sd (nan when the differences have no spread)
    observed_d: float  # nan when the differences have no spread
    seeds_needed: int | None  # for observed_d at this family's level; None: more than MAX_SEEDS

    def note(self, n: int) -> str:
        """Why an inconclusive claim is inconclusive: too few seeds for the effect seen, or a small effect."""
        if not math.isfinite(self.observed_d):
            return "no spread in the differences: power cannot be judged"
        if self.seeds_needed is None:
            return (
                f"effect small against its spread (d = {self.observed_d:.2g}): not reachable by adding seeds"
            )
        if self.seeds_needed <= n:
            return f"the effect seen (d = {self.observed_d:.2g}) is detectable at n = {n}: short by chance"
        kind = "underpowered" if self.seeds_needed <= 4 * max(n, 2) else "small effect"
        return f"{kind}: the effect seen (d = {self.observed_d:.2g}) needs {self.seeds_needed} seeds"


def claim_power(diffs_sd: float, mean: float, n: int, family_size: int) -> Power:
    """Power of one claim: n paired differences with sample sd `diffs_sd` and mean `mean`, tested in a
    Holm family of `family_size` claims."""
    alpha = ALPHA / max(family_size, 1)
    d_min = detectable_d(n, alpha)
    spread = diffs_sd if diffs_sd > 0 else math.nan
    observed = abs(mean) / spread if spread == spread else math.nan
    return Power(
        family_size=family_size,
        alpha=alpha,
        detectable_d=d_min,
        detectable_effect=d_min * spread,
        observed_d=observed,
        seeds_needed=seeds_needed(observed, alpha) if math.isfinite(observed) else None,
    )


def detectable_line(study: str, n_seeds: int, family_size: int) -> str:
    """One line for the start of a run: what a study's configured seeds can detect."""
    d = detectable_d(n_seeds, ALPHA / max(family_size, 1))
    shown = "nothing (fewer than 2 seeds)" if not math.isfinite(d) else f"a standardised effect of {d:.2g}"
    return (
        f"irbench: {study}: {n_seeds} seeds, Holm over {family_size} primary claims: at 80% power a claim is "
        f"called from {shown} (mean / sd of the paired differences) up"
    )
