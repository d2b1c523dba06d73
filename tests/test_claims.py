import numpy as np
import pandas as pd
import pytest

from irbench.claims import (
    AT_CHANCE,
    EVAL_FAILED,
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    TOO_FEW,
    TOO_WEAK,
    evaluate_claims,
    holm,
    t_interval,
    verdict,
)


def _records(robust_adv, standard_adv, fid=(10.0, 20.0), **extra):
    rows = []
    for seed, (r, s) in enumerate(zip(robust_adv, standard_adv, strict=True)):
        jitter = 0.5 * seed  # FID differences with a spread (equal differences decide nothing)
        rows.append(
            {"dataset": "d", "variant": "l2_robust", "seed": seed, "acc_l2_pgd": r, "fid": fid[0] + jitter}
        )
        rows.append({"dataset": "d", "variant": "standard", "seed": seed, "acc_l2_pgd": s, "fid": fid[1]})
    df = pd.DataFrame(rows)
    for k, v in extra.items():
        df[k] = v
    return df


CLAIMS = [
    {"claim": "robust beats standard", "metric": "acc_l2_pgd", "better": "l2_robust", "worse": "standard"},
    {
        "claim": "lower fid",
        "metric": "fid",
        "better": "l2_robust",
        "worse": "standard",
        "higher_is_better": False,
    },
    {"claim": "absent metric is skipped", "metric": "nothing", "better": "l2_robust", "worse": "standard"},
]


def _false_holds_rate(n: int, sims: int, interval) -> float:
    """How often an interval of n paired differences with no true effect lies wholly above 0."""
    rng = np.random.default_rng(n)
    return float(np.mean([interval(rng.standard_normal(n))[0] > 0 for _ in range(sims)]))


def _percentile_bootstrap(d, n_boot=400, seed=0):
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(n_boot, d.size))].mean(axis=1)
    return np.quantile(means, 0.025), np.quantile(means, 0.975)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_t_interval_says_holds_at_most_the_nominal_rate_under_no_effect(n):
    sims = 8000
    rate = _false_holds_rate(n, sims, t_interval)
    tolerance = 3 * np.sqrt(0.025 * 0.975 / sims)  # Monte-Carlo error at 3 standard errors
    assert rate <= 0.025 + tolerance, f"n={n}: false 'holds' in {rate:.3%} of simulations"


def test_the_simulation_catches_an_interval_that_is_too_narrow():
    # the percentile bootstrap the report used before: [min, max] of two differences says "holds" ~25%
    assert _false_holds_rate(2, 2000, _percentile_bootstrap) > 0.15


def test_t_interval_matches_the_textbook_case_and_handles_no_spread():
    low, high, p = t_interval([1.0, 2.0, 3.0])
    half = 4.302653 * 1.0 / np.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (low, high) == pytest.approx((2 - half, 2 + half), rel=1e-5)
    assert p == pytest.approx(0.0742, abs=1e-3)
    # equal differences carry no estimate of their spread: they must not decide (p 1, not 0)
    assert t_interval([0.2, 0.2]) == (0.2, 0.2, 1.0) and t_interval([0.0, 0.0])[2] == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        t_interval([0.5])


def test_holm_adjusts_step_down_and_keeps_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5]) == [0.5] and holm([0.4, 0.9]) == pytest.approx([0.8, 0.9])


def test_verdicts_follow_the_adjusted_p_and_the_sign():
    assert verdict(0.1, 0.01) == HOLDS and verdict(-0.1, 0.01) == FAILS and verdict(0.1, 0.2) == INCONCLUSIVE


def test_claims_are_paired_by_seed_oriented_and_show_their_seeds():
    res = {
        c.metric: c
        for c in evaluate_claims(_records([0.6, 0.7, 0.65], [0.1, 0.0, 0.05]), "vision", CLAIMS, gates_of={})
    }
    assert set(res) == {"acc_l2_pgd", "fid"}
    acc = res["acc_l2_pgd"]
    assert acc.verdict == HOLDS and acc.n_pairs == 3 and acc.seeds == (0, 1, 2)
    assert acc.diffs == pytest.approx((0.5, 0.7, 0.6)) and acc.mean_diff == pytest.approx(0.6)
    assert acc.ci_low < 0.6 < acc.ci_high and any("low power" in n for n in acc.notes)
    assert res["fid"].mean_diff == pytest.approx(9.5) and res["fid"].verdict == HOLDS  # lower is better
    flipped = evaluate_claims(
        _records([0.1, 0.0, 0.05], [0.6, 0.55, 0.62], fid=(30.0, 20.0)), "vision", CLAIMS, gates_of={}
    )
    assert {c.verdict for c in flipped} == {FAILS}
    mixed = evaluate_claims(_records([0.6, 0.1], [0.1, 0.6]), "vision", CLAIMS[:1], gates_of={})
    assert mixed[0].verdict == INCONCLUSIVE
    one = evaluate_claims(_records([0.6], [0.1]), "vision", CLAIMS[:1], gates_of={})
    assert one[0].verdict == TOO_FEW and np.isnan(one[0].ci_low)


def test_the_t_interval_no_longer_calls_two_seeds_that_merely_agree():
    # the example: +4.8 with differences 0.2 and 9.4 was "holds" under the bootstrap
    res = evaluate_claims(_records([0.502, 0.594], [0.5, 0.5]), "vision", CLAIMS[:1], gates_of={})[0]
    assert res.verdict == INCONCLUSIVE and res.ci_low < 0 < res.ci_high


def test_holm_correction_spans_the_study_claims():
    # two claims at p ~0.03 each: each holds alone, neither after Holm (2 x 0.03 > 0.05) ... and both are
    # evaluated on the same records so the second claim's p must be similar
    recs = _records([0.30, 0.52, 0.40, 0.35, 0.47], [0.28, 0.28, 0.28, 0.28, 0.28])
    recs["acc_clean"] = recs["acc_l2_pgd"]
    alone = evaluate_claims(recs, "v", CLAIMS[:1], gates_of={})[0]
    claims = [CLAIMS[0], {**CLAIMS[0], "claim": "clean", "metric": "acc_clean"}]
    both = evaluate_claims(recs, "v", claims, gates_of={})
    assert alone.p_value < 0.05 and alone.verdict == HOLDS
    assert all(c.p_holm == pytest.approx(min(1, 2 * c.p_value)) for c in both)
    assert all(c.verdict == (HOLDS if c.p_holm < 0.05 else INCONCLUSIVE) for c in both)
    lifted = [c for c in both if c.verdict == INCONCLUSIVE and c.ci_low > 0]
    assert len(lifted) == 2 and all(any("before Holm's correction" in n for n in c.notes) for c in lifted)
    assert not any("low power" in n for c in both for n in c.notes)  # five seeds


def test_a_failed_gate_vetoes_the_verdict_and_says_whose():
    recs = _records([0.6, 0.7, 0.65], [0.1, 0.0, 0.05], gate_order=1.0, gate_large_eps=1.0)
    recs.loc[(recs["variant"] == "standard") & (recs["seed"] == 1), "gate_order"] = 0.0
    gates = {"acc_l2_pgd": ("order", "large_eps")}
    res = evaluate_claims(recs, "v", CLAIMS[:1], gates_of=gates)[0]
    assert res.verdict == EVAL_FAILED and any("standard seed 1" in n for n in res.notes)
    assert np.isnan(res.p_holm)
    recs["gate_order"] = 1.0
    recs.loc[recs["variant"] == "l2_robust", "gate_large_eps"] = 0.0
    assert evaluate_claims(recs, "v", CLAIMS[:1], gates_of=gates)[0].verdict == TOO_WEAK
    recs["gate_large_eps"] = 1.0
    assert evaluate_claims(recs, "v", CLAIMS[:1], gates_of=gates)[0].verdict == HOLDS


def test_declared_gates_come_from_the_metric_declarations():
    recs = _records([0.6, 0.7, 0.65], [0.1, 0.0, 0.05], gate_above_chance=1.0)
    recs.loc[recs["variant"] == "standard", "gate_above_chance"] = 0.0
    res = evaluate_claims(recs, "v", CLAIMS[:2])
    assert res[0].verdict == AT_CHANCE  # acc_l2_pgd (attacks probe) declares the above-chance gate
    assert res[1].verdict == HOLDS  # fid declares none
