import pandas as pd
import pytest

from irbench.claims import FAILS, HOLDS, INCONCLUSIVE, bootstrap_ci, evaluate_claims, verdict


def _records(robust_adv, standard_adv, fid=(10.0, 20.0)):
    rows = []
    for seed, (r, s) in enumerate(zip(robust_adv, standard_adv, strict=True)):
        rows.append({"dataset": "d", "variant": "l2_robust", "seed": seed, "acc_l2_pgd": r, "fid": fid[0]})
        rows.append({"dataset": "d", "variant": "standard", "seed": seed, "acc_l2_pgd": s, "fid": fid[1]})
    return pd.DataFrame(rows)


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


def test_bootstrap_interval_brackets_the_mean_and_is_seeded():
    d = [0.1, 0.3, 0.2, 0.5, 0.4]
    low, high = bootstrap_ci(d, n_boot=2000, seed=1)
    assert low < 0.3 < high and low >= 0.1 and high <= 0.5
    assert (low, high) == bootstrap_ci(d, n_boot=2000, seed=1)
    assert bootstrap_ci([0.2, 0.2, 0.2]) == pytest.approx((0.2, 0.2))
    with pytest.raises(ValueError):
        bootstrap_ci([])


def test_verdicts_follow_the_interval():
    assert verdict(0.01, 0.2) == HOLDS and verdict(-0.3, -0.1) == FAILS and verdict(-0.1, 0.1) == INCONCLUSIVE


def test_claims_are_paired_by_seed_and_oriented():
    res = {
        c.metric: c for c in evaluate_claims(_records([0.6, 0.7, 0.65], [0.1, 0.0, 0.05]), "vision", CLAIMS)
    }
    assert set(res) == {"acc_l2_pgd", "fid"}
    assert res["acc_l2_pgd"].verdict == HOLDS and res["acc_l2_pgd"].n_pairs == 3
    assert res["acc_l2_pgd"].mean_diff == pytest.approx(0.6)
    assert res["fid"].mean_diff == pytest.approx(10.0) and res["fid"].verdict == HOLDS  # lower is better
    flipped = evaluate_claims(_records([0.1, 0.0], [0.6, 0.7], fid=(30.0, 20.0)), "vision", CLAIMS)
    assert {c.verdict for c in flipped} == {FAILS}
    mixed = evaluate_claims(_records([0.6, 0.1], [0.1, 0.6]), "vision", CLAIMS[:1])
    assert mixed[0].verdict == INCONCLUSIVE
