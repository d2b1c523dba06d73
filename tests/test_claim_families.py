"""Primary and secondary claims, power, the controls, and the false-verdict rate of the default run's claim
families under no effect (quantised metrics with ties included)."""

import numpy as np
import pandas as pd
import pytest

from irbench.claims import (
    FAILS,
    HOLDS,
    INCONCLUSIVE,
    NEGATIVE,
    POSITIVE,
    PRIMARY,
    SECONDARY,
    _decide,
    _Draft,
    control_failures,
    evaluate_claims,
    evaluate_controls,
    seed_plan,
)
from irbench.power import detectable_d, seeds_needed, t_power
from irbench.tables import paper_reference


def _frame(values: dict[str, list[float]], metric: str = "m", dataset: str = "d") -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"dataset": dataset, "variant": v, "seed": s, metric: x}
            for v, xs in values.items()
            for s, x in enumerate(xs)
        ]
    )


def test_equal_differences_never_decide_a_claim():
    recs = _frame({"a": [0.6, 0.7, 0.8, 0.5, 0.4], "b": [0.4, 0.5, 0.6, 0.3, 0.2]})  # all +0.2
    res = evaluate_claims(recs, "s", [{"claim": "a > b", "metric": "m", "better": "a", "worse": "b"}], {})[0]
    assert res.verdict == INCONCLUSIVE and res.p_value == 1.0
    assert any("no spread" in n for n in res.notes)


def test_primary_claims_form_their_own_holm_family():
    rng = np.random.default_rng(0)
    b = rng.normal(0.5, 0.05, 5)
    recs = _frame({"a": list(b + 0.1 + rng.normal(0, 0.03, 5)), "b": list(b)})
    base = {"metric": "m", "better": "a", "worse": "b"}
    claims = [{**base, "claim": "primary", "primary": True}] + [
        {**base, "claim": f"secondary {i}"} for i in range(6)
    ]
    res = evaluate_claims(recs, "s", claims, {})
    first = res[0]
    assert first.family == PRIMARY and first.p_holm == pytest.approx(first.p_value)  # a family of one
    assert {c.family for c in res[1:]} == {SECONDARY}
    assert all(c.p_holm == pytest.approx(min(1, 6 * c.p_value)) for c in res[1:])
    assert first.power.family_size == 1 and res[1].power.family_size == 6


def test_power_matches_the_textbook_values_and_names_the_seeds_an_effect_needs():
    # paired t, two-sided 5%: d = 1 at n = 10 has 80.3% power; d = 0.5 needs 34 pairs (G*Power: 34)
    assert t_power(1.0, 10, 0.05) == pytest.approx(0.803, abs=1e-3)
    assert seeds_needed(0.5, 0.05) == 34 and seeds_needed(1.0, 0.05) == 10
    assert detectable_d(10, 0.05) == pytest.approx(1.0, abs=0.01)
    assert detectable_d(5, 0.05 / 4) > detectable_d(5, 0.05) > detectable_d(10, 0.05)
    assert detectable_d(1, 0.05) == float("inf") and seeds_needed(1e-4, 0.05) is None


def test_an_inconclusive_claim_says_why():
    rng = np.random.default_rng(3)
    b = rng.normal(0.5, 0.1, 3)
    # a big effect at 3 seeds (underpowered) and a tiny one (small against its spread)
    recs = _frame({"a": list(b + [0.20, 0.05, 0.35]), "b": list(b), "c": list(b + [0.01, -0.02, 0.015])})
    claims = [
        {"claim": "a > b", "metric": "m", "better": "a", "worse": "b", "primary": True},
        {"claim": "c > b", "metric": "m", "better": "c", "worse": "b", "primary": True},
    ]
    big, small = evaluate_claims(recs, "s", claims, {})
    assert big.verdict == small.verdict == INCONCLUSIVE
    assert any(n.startswith("underpowered") and "seeds" in n for n in big.notes), big.notes
    assert any(n.startswith(("small effect", "effect small")) for n in small.notes), small.notes
    assert big.power.seeds_needed > 3


def _harness(n_seeds: int, effect: float, bias_per_seed: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A simulated run: `robust` beats `standard` by `effect` under attack; `bias_per_seed` drifts every
    model's numbers with the seed's position (a harness whose jobs leak state into later seeds)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_seeds):
        for variant, mean in (("standard", 0.1), ("robust", 0.1 + effect)):
            rows.append(
                {
                    "dataset": "synthetic_shapes",
                    "variant": variant,
                    "seed": i,
                    "acc_l2_pgd": mean + bias_per_seed * i + rng.normal(0, 0.02),
                    "acc_clean": 0.9 + rng.normal(0, 0.01),
                    "cue_following": 0.1 + effect + rng.normal(0, 0.02),
                }
            )
    return pd.DataFrame(rows)


CLAIM = {"claim": "robust > standard", "metric": "acc_l2_pgd", "better": "robust", "worse": "standard"}
POSITIVE_CONTROLS = [
    {"claim": "cue pull", "metric": "cue_following", "better": "standard", "against": 0.1},
    {
        "claim": "attack bites",
        "metric": "acc_clean",
        "better": "standard",
        "worse": "standard",
        "worse_metric": "acc_l2_pgd",
    },
]


def test_the_controls_pass_on_a_sound_harness():
    controls = evaluate_controls(
        _harness(10, 0.5), "vision", [{**CLAIM, "primary": True}], POSITIVE_CONTROLS, gates_of={}
    )
    assert {c.family for c in controls} == {NEGATIVE, POSITIVE}
    neg = [c for c in controls if c.family == NEGATIVE][0]
    assert neg.n_pairs == 10 and neg.verdict == INCONCLUSIVE  # 5 pairs from each of the two variants
    assert control_failures(controls) == []


def test_a_biased_harness_trips_the_negative_control():
    # every later seed scores higher: seeds are not exchangeable, and the self-comparison is decided
    controls = evaluate_controls(
        _harness(10, 0.5, bias_per_seed=0.05), "vision", [{**CLAIM, "primary": True}], gates_of={}
    )
    neg = [c for c in controls if c.family == NEGATIVE][0]
    assert neg.verdict == FAILS  # first half below the second
    failures = control_failures(controls)
    assert len(failures) == 1 and failures[0].startswith("negative control")


def test_a_blind_harness_trips_the_positive_controls():
    # an attack that does nothing and a cue the models never see: nothing planted is found
    recs = _harness(5, 0.0)
    recs["acc_l2_pgd"] = recs["acc_clean"]
    controls = evaluate_controls(recs, "vision", [{**CLAIM, "primary": True}], POSITIVE_CONTROLS, gates_of={})
    pos = [c for c in controls if c.family == POSITIVE]
    assert len(pos) == 2 and all(c.verdict != HOLDS for c in pos)
    assert sum(f.startswith("positive control") for f in control_failures(controls)) == 2


def test_positive_controls_apply_only_to_the_datasets_that_plant_them():
    recs = _harness(5, 0.5)
    only = [{**POSITIVE_CONTROLS[0], "datasets": ["another_dataset"]}]
    assert evaluate_controls(recs, "vision", [], only, gates_of={}) == []


@pytest.mark.parametrize("step", [None, 0.002, 0.0033])
@pytest.mark.parametrize("study", ["vision", "mer", "lime"])
def test_the_default_claim_families_keep_the_familywise_rate_at_5_percent_under_no_effect(study, step):
    # at the default's 5 seeds, with the study's own claim families: how often is any claim of a family
    # decided when no variant differs from another? Each claim's differences are those of two models'
    # values drawn from one distribution; `step` rounds the values to a grid, as accuracies on a few
    # hundred images are (ties and equal differences are then common)
    claims = paper_reference(study)["claims"]
    rng = np.random.default_rng(abs(hash((study, step))) % 2**32)
    sims = 2000
    decided = {PRIMARY: 0, SECONDARY: 0}
    for _ in range(sims):
        values = rng.normal(0.5, 0.01, size=(len(claims), 2, 5))
        if step:
            values = np.round(values / step) * step
        drafts = [
            _Draft(
                "d",
                c,
                tuple(range(5)),
                v[0] - v[1],
                None,
                (),
                PRIMARY if c.get("primary") else SECONDARY,
                "b",
            )
            for c, v in zip(claims, values, strict=True)
        ]
        res = _decide(study, drafts)
        for family in decided:
            decided[family] += any(c.decided for c in res if c.family == family)
    tolerance = 3 * np.sqrt(0.05 * 0.95 / sims)
    assert decided[PRIMARY] / sims <= 0.05 + tolerance, decided
    assert decided[SECONDARY] / sims <= 0.05 + tolerance, decided


def test_quantised_null_differences_with_ties_do_not_inflate_false_holds():
    # differences on a 3-point grid (ties everywhere): the old p = 0 rule called "holds" whenever all were
    # equal; now a tie decides nothing and the rate stays at the nominal 2.5% per side
    rng = np.random.default_rng(7)
    sims, holds = 4000, 0
    for _ in range(sims):
        d = rng.choice([-0.0033, 0.0, 0.0033], size=5)
        recs = _frame({"a": list(0.5 + d), "b": [0.5] * 5})
        c = evaluate_claims(recs, "s", [{"claim": "a > b", "metric": "m", "better": "a", "worse": "b"}], {})[
            0
        ]
        holds += c.verdict == HOLDS
    assert holds / sims <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / sims)


def test_the_run_start_says_what_the_seeds_can_detect():
    cfg = {"studies": ["vision"], "seeds": [0, 1, 2, 3, 4], "vision": {"datasets": ["synthetic_shapes"]}}
    lines = seed_plan(cfg, ["vision.train.epochs"])
    assert lines[0].startswith("irbench: vision: 5 seeds, Holm over 4 primary claims")
    assert f"{detectable_d(5, 0.05 / 4):.2g}" in lines[0]
    assert "vision.train.epochs" in lines[1]


def test_a_claim_may_name_its_own_gates():
    # a failed `bite` gate vetoes claims on attacked metrics; the control that checks the attack bites
    # names no gates, so it is decided on its numbers
    recs = _frame({"a": [0.6, 0.62, 0.58, 0.61, 0.63]}, metric="corr_clean")
    recs["corr_ref"] = [-0.3, -0.4, -0.35, -0.2, -0.3]
    recs["gate_bite"] = 0.0
    control = {
        "claim": "bites",
        "metric": "corr_clean",
        "better": "a",
        "worse": "a",
        "worse_metric": "corr_ref",
    }
    gated = evaluate_controls(recs, "mer", [], [control], gates_of={"corr_ref": ("bite",)})[0]
    free = evaluate_controls(recs, "mer", [], [{**control, "gates": []}], gates_of={"corr_ref": ("bite",)})[0]
    assert gated.verdict == "attack too weak" and free.verdict == HOLDS and free.family == POSITIVE
