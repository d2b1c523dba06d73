"""The atlas: rank correlations across models with a known ordering, the partial correlation that removes
a confound of clean accuracy, the dose-response trend, the cards; and end to end, a configuration of
RobustBench architectures, a torchvision model, an irbench checkpoint and irbench's own variants at five
training eps (the shipped configs/dose_response.yaml) run from nothing to the atlas table, figure and
cards."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from irbench.atlas import AtlasSettings, associations, dose_trend, partial_spearman, robust_metrics, spearman
from irbench.cards import standing

from .conftest import ROOT


def _models(n: int = 12, seed: int = 0) -> pd.DataFrame:
    """Models whose robust accuracy rises with index; `tracks` rises with it, `confounded` follows clean
    accuracy only (which falls with robustness, plus noise), `noise` is unrelated."""
    rng = np.random.default_rng(seed)
    robust = np.linspace(0.05, 0.6, n)
    clean = 0.95 - 0.5 * robust + rng.normal(0, 0.05, n)
    return pd.DataFrame(
        {
            "study": "vision",
            "dataset": "toy",
            "variant": [f"v{i}" for i in range(n)],
            "seed": 0,
            "acc_clean": clean,
            "acc_robust_l2": robust,
            "ig_object_mass": 0.2 + robust + rng.normal(0, 0.01, n),  # tracks robustness
            "shap_object_mass": 1.5 - clean + rng.normal(0, 0.03, n),  # confounded: clean accuracy only
            "ig_mprt_top": rng.normal(size=n),  # unrelated
            "random_object_mass": robust,  # a baseline, not a score
            "source": "trained",
            "dose": np.repeat([0.0, 0.25, 0.5, 1.0], n // 4),
            "fallbacks": "",
        }
    )


def test_rank_correlation_and_its_bootstrap_interval_follow_the_known_ordering():
    rows, skipped = associations(_models(), AtlasSettings(min_models=5, n_bootstrap=500))
    by = {r.score: r for r in rows}
    assert not skipped and "random_object_mass" not in by  # the baseline is not a score of a model
    assert by["ig_object_mass"].rho > 0.95 and by["ig_object_mass"].rho_low > 0.8
    assert by["ig_object_mass"].dose_rho > 0.9 and by["ig_object_mass"].dose_p < 0.01
    # the confounded score correlates with robustness through clean accuracy only: partialled out, gone
    confounded = by["shap_object_mass"]
    assert confounded.rho > 0.6 and abs(confounded.partial) < 0.5 and confounded.partial_low < 0
    assert by["ig_mprt_top"].rho_low < 0 < by["ig_mprt_top"].rho_high


def test_each_scores_interval_is_its_own_whatever_the_order_of_the_columns():
    models = _models()
    forward = {r.score: (r.rho_low, r.partial_high) for r in associations(models, AtlasSettings())[0]}
    backward = models[list(reversed(models.columns))]
    assert forward == {
        r.score: (r.rho_low, r.partial_high) for r in associations(backward, AtlasSettings())[0]
    }


def test_a_dataset_with_too_few_models_gets_no_atlas_and_says_why():
    rows, skipped = associations(_models(4), AtlasSettings(min_models=5, n_bootstrap=100))
    assert rows == [] and "4 models, fewer than atlas.min_models = 5" in skipped["toy"]


def test_spearman_partial_and_trend_helpers():
    a = np.arange(6.0)
    assert spearman(a, a**3) == pytest.approx(1.0) and math.isnan(spearman(a, np.ones(6)))
    assert partial_spearman(a, a, np.zeros(6)) == pytest.approx(1.0)
    assert math.isnan(dose_trend(a, np.array([0, 0, 1, 1, 1, 1.0]))[0])  # two eps: no trend test
    assert robust_metrics(["acc_clean", "acc_l2_pgd", "acc_robust_l2"]) == ["acc_robust_l2"]
    # without AutoAttack: the attacks probe's threat models, not the sweep's other eps nor other probes'
    assert robust_metrics(["acc_clean", "acc_l2_pgd", "acc_pgd_l2_1", "acc_cue_independent"]) == [
        "acc_l2_pgd"
    ]
    assert robust_metrics(["corr_clean", "corr_bim", "corr_drop_bim", "mae_bim"]) == ["corr_bim"]


def test_a_cards_standing_respects_the_metrics_direction():
    assert standing(0.9, [0.1, 0.5], True) == "1 of 3 (beats 2 of 2)"
    assert standing(0.9, [0.1, 0.5], False) == "3 of 3 (beats 0 of 2)"
    assert standing(math.nan, [0.1], True) == ""


# ---------------------------------------------------------------------------------------------- end to end


def _zoo_file(project, name: str) -> None:
    """A RobustBench zoo entry with random weights, saved as the zoo distributes them (under
    `state_dict`, DataParallel's `module.` prefix)."""
    from irbench.models import build_model

    model = build_model(
        {"arch": "robustbench", "name": name, "threat_model": "Linf", "zoo_dataset": "cifar10"}, n_classes=10
    )
    path = project / "data/robustbench/cifar10/Linf" / f"{name}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)


@pytest.mark.e2e
def test_imported_checkpoints_and_the_dose_response_run_from_nothing_to_the_atlas(tmp_path):
    import torchvision

    from irbench.models import build_model

    from .test_workflow import make_project, smk

    project = make_project(tmp_path / "project")
    (project / "configs").mkdir()
    shutil.copy(ROOT / "configs/dose_response.yaml", project / "configs")
    shutil.copy(ROOT / "tests/configs/atlas.yaml", project / "atlas.yaml")
    torch.manual_seed(0)
    for name in ("Ding2020MMA", "Wong2020Fast"):
        _zoo_file(project, name)
    (project / "data/weights").mkdir(parents=True)
    torch.save(
        torchvision.models.resnet18(num_classes=10).state_dict(), project / "data/weights/resnet18_10.pth"
    )
    own = build_model({"arch": "resnet10", "width": 4}, n_classes=10)
    torch.save({"state_dict": own.state_dict()}, project / "data/weights/own_resnet10.pt")

    layers = ["--configfile", "configs/dose_response.yaml", "atlas.yaml"]
    # the zoo models declare no representation: the visualise probe serves them by its fallback
    smk(project, "results/report.html", *layers)

    variants = yaml.safe_load((ROOT / "tests/configs/atlas.yaml").read_text())["vision"]["variants"]
    for v in ("zoo_mma", "zoo_fast", "tv_resnet18", "own_resnet10"):
        train = json.loads((project / f"results/vision/models/synthetic_shapes/{v}/seed0.json").read_text())
        assert len(train["imported"]["sha256"]) == 64 and train["history"] == []
        record = json.loads((project / f"results/vision/eval/synthetic_shapes/{v}/seed0.json").read_text())
        assert {"acc_clean", "ece_clean", "ig_deletion_auc", "ig_deletion_vs_random"} <= set(
            record["metrics"]
        )
        served = {(f["probe"], f["capability"]) for f in record["fallbacks"]}
        if v.startswith("zoo"):  # no declared representation: the generic fallback, said in the record
            assert served == {("visualise", "representation"), ("visualise", "fake_relu")}
        else:
            assert served == set()
    assert set(variants) <= {p.name for p in (project / "results/vision/models/synthetic_shapes").iterdir()}

    table = pd.read_csv(project / "results/atlas/vision.csv")
    assert (table["n_models"] == 9).all()  # 5 eps trained, 4 imported
    # the dose-response: wherever a score varies over the five trained eps (a constant one has no rank)
    assert table.set_index("score").loc["ig_deletion_auc", ["dose_rho", "dose_p"]].notna().all()
    assert (project / "results/atlas/vision/synthetic_shapes.png").stat().st_size > 10_000
    card = (project / "results/atlas/vision/cards/synthetic_shapes_zoo_mma_seed0.md").read_text()
    assert "imported: RobustBench cifar10 Linf Ding2020MMA" in card and "sha256:" in card
    assert "worst-case robust accuracy" in card and "of 9" in card
    logged = {p.name for p in (project / "mlruns").rglob("*") if p.parent.name == "card"}
    assert {"synthetic_shapes_zoo_mma_seed0.md", "synthetic_shapes_zoo_mma_seed0.html"} <= logged  # its run
    report = (project / "results/report.html").read_text()
    assert (
        "Atlas: robustness against interpretability" in report
        and "cards/synthetic_shapes_own_resnet10" in report
    )
    assert "visualise without representation" in report
