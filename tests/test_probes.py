"""The probe registry: dependency order, skipping, per-probe seeding, metric declarations, figures; and
the deletion/insertion probe."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from irbench.errors import IrbenchError
from irbench.probes import PROBES, configured, figures_of, metric_info, run_probes

from .conftest import probe_context
from .test_attributions import _pixel_model


def _corner_model() -> nn.Module:
    """Class 1 iff the top-left 2x2 block is bright: every decision rests on those 4 of 16 pixels."""
    model = _pixel_model()
    with torch.no_grad():
        model[1].bias[:] = torch.tensor([6.0, 0.0])
    return model


def _corner_data(n: int = 24):
    gen = torch.Generator().manual_seed(1)
    x = 0.2 * torch.rand(n, 3, 4, 4, generator=gen)
    y = torch.arange(n) % 2
    x[y == 1, :, :2, :2] = 1.0
    mask = torch.zeros(n, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    return x, y, {"object_mask": mask}


def test_probes_run_in_dependency_order_and_a_missing_dependency_is_named():
    assert configured({"attacks": {}, "n_eval": 5, "clean": {}}) == ["clean", "attacks"]
    assert configured({"deletion": {"n_steps": 2}, "attributions": {}}) == ["attributions", "deletion"]
    # `follows`: the gates run after the attacks they check when both are configured, and without them
    assert configured({"gates": {}, "clean": {}, "attacks": {}}) == ["clean", "attacks", "gates"]
    assert configured({"gates": {}, "clean": {}}) == ["clean", "gates"]
    with pytest.raises(IrbenchError, match="probe 'deletion' reads probe 'attributions'"):
        configured({"deletion": {"n_steps": 4}})


def test_a_probe_whose_data_is_missing_is_skipped_with_a_log_line():
    x, y, _ = _corner_data()
    lines = []
    ctx = probe_context(_corner_model(), x, y, log=lines.append)
    metrics, _, _ = run_probes(ctx, {"clean": {}, "cue_following": {}})
    assert set(metrics) == {"acc_clean", "confidence_clean", "ece_clean"} and metrics["acc_clean"] == 1.0
    assert any("cue_following: skipped (the test split has no cue_labels)" in ln for ln in lines)


def test_cue_following_uses_the_cue_independent_split_where_the_dataset_has_one():
    from irbench.data.tensors import Split
    from irbench.datasets.synthetic_shapes import CUE_INDEPENDENT

    x, y, _ = _corner_data()  # the corner decides: it is the "cue" here, and agrees with y
    in_dist = {"cue_labels": y.clone()}
    shifted_cue = 1 - y  # on the shifted split the corner (cue) says the opposite class of the label
    xs = x.clone()
    xs[:, :, :2, :2] = 0.0
    xs[shifted_cue == 1, :, :2, :2] = 1.0
    shifted = Split(xs, y, {"cue_labels": shifted_cue}, {})
    ctx = probe_context(_corner_model(), x, y, in_dist, splits={CUE_INDEPENDENT: shifted})
    metrics, _, _ = run_probes(ctx, {"clean": {}, "cue_following": {}})
    wanted = ("acc_clean", "acc_cue_independent", "cue_following")
    assert {k: metrics[k] for k in wanted} == {
        "acc_clean": 1.0,
        "acc_cue_independent": 0.0,
        "cue_following": 1.0,
    }
    alone, _, _ = run_probes(probe_context(_corner_model(), x, y, in_dist), {"cue_following": {}})
    assert alone == {}  # no conflicting images in the main split, no second split: nothing to report


def test_every_probe_starts_from_the_seed_so_adding_one_changes_no_other_number():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 3))
    x = torch.rand(300, 3, 4, 4)
    y = model(x).argmax(1)
    # a random start of the ball's size and a short step: the accuracy depends on where PGD starts
    sweep = {"sweep": {"eps": [0.3], "pgd_steps": 1, "pgd_step_factor": 0.5}}
    alone, _, _ = run_probes(probe_context(model, x, y), {"clean": {}, **sweep})
    attack = {"method": "pgd", "norm": "linf", "eps": 0.3, "steps": 1}
    more, _, _ = run_probes(probe_context(model, x, y), {"clean": {}, "attacks": {"a": attack}, **sweep})
    assert {k: more[k] for k in alone} == alone
    other, _, _ = run_probes(probe_context(model, x, y, seed=1), {"clean": {}, **sweep})
    assert other["acc_pgd_0.3"] != alone["acc_pgd_0.3"]  # the start does matter here


def test_metric_declarations_pick_the_most_specific_pattern():
    assert metric_info("acc_clean").description.startswith("accuracy on clean")
    assert metric_info("acc_pgd_8").pattern == "acc_pgd_{eps}"
    assert metric_info("acc_l2_pgd").pattern == "acc_{attack}" and metric_info("acc_l2_pgd").unit == "percent"
    assert metric_info("corr_drop_bim").higher_is_better is False
    assert metric_info("ig_deletion_auc").higher_is_better is False
    with pytest.raises(IrbenchError, match="metric 'bogus' is declared by no probe"):
        metric_info("bogus")


def test_every_declared_metric_has_a_unit_a_direction_field_and_a_description():
    for _, probe in PROBES.items():
        for m in probe.metrics:
            assert m.unit in ("percent", "raw", "seconds") and m.description, (probe.key, m)


def test_two_probes_that_draw_the_same_figure_are_refused():
    spec = {"attributions": {}, "lime": {}}
    with pytest.raises(IrbenchError, match="both draw the 'attributions' figure"):
        figures_of(spec)
    assert set(figures_of({"visualise": {}, "sweep": {}})) == {"visualisations", "features", "robustness"}


def test_deletion_is_low_and_insertion_high_for_a_faithful_map_and_random_sits_between():
    model, (x, y, extras) = _corner_model(), _corner_data()
    ctx = probe_context(model, x, y, extras)
    spec = {
        "clean": {},
        "attributions": {
            "methods": ["ig", "shap"],
            "n_images": 24,
            "n_baselines": 4,
            "n_figure": 1,
            "ig_steps": 16,
            "internal_batch_size": 64,
            "shap_samples": 8,
        },
        "deletion": {"n_steps": 8},
    }
    m, _, _ = run_probes(ctx, spec)
    for method in ("ig", "shap"):
        assert m[f"{method}_deletion_auc"] < m["random_deletion_auc"] - 0.1
        assert m[f"{method}_insertion_auc"] > m["random_insertion_auc"] + 0.1
    assert all(0.0 <= v <= 1.0 for k, v in m.items() if k.endswith("_auc"))


def test_score_curves_end_at_the_unperturbed_and_the_blank_image_and_normalise_by_the_unperturbed():
    from irbench.evaluation import logits_of
    from irbench.probes.deletion import auc, normalised_mean, score_curves

    model, (x, y, _) = _corner_model(), _corner_data()
    order = torch.arange(16).expand(len(x), -1)
    deleted = score_curves(model, x, y, order, 4, insert=False, batch_size=8)
    inserted = score_curves(model, x, y, order, 4, insert=True, batch_size=8)
    clean = logits_of(model, x).softmax(1).gather(1, y[:, None])[:, 0]
    assert torch.allclose(deleted["prob"][:, 0], clean) and torch.allclose(inserted["prob"][:, -1], clean)
    assert torch.allclose(deleted["prob"][:, -1], inserted["prob"][:, 0])  # both: the mean-colour image
    assert torch.allclose(deleted["logit"][:, -1], inserted["logit"][:, 0])
    assert torch.allclose(normalised_mean(deleted["prob"], clean)[0], torch.tensor(1.0))
    # a non-positive unperturbed score leaves its image out of the mean
    scores = torch.tensor([[2.0, 1.0], [-1.0, 5.0]])
    assert normalised_mean(scores, scores[:, 0]).tolist() == [1.0, 0.5]
    assert auc(torch.tensor([1.0, 1.0, 1.0])) == pytest.approx(1.0)


def test_a_probe_whose_dependency_was_skipped_is_skipped_too():
    from irbench.probes import Probe, ProbeOutput

    reader = Probe(
        "reads_cue", lambda ctx, spec: ProbeOutput({"x": 1.0}), "test", (), after=("cue_following",)
    )
    PROBES.register("reads_cue", reader)
    try:
        x, y, _ = _corner_data()
        lines = []
        ctx = probe_context(_corner_model(), x, y, log=lines.append)
        metrics, _, _ = run_probes(ctx, {"cue_following": {}, "reads_cue": {}})
        assert metrics == {}
        assert any(
            "reads_cue: skipped (the test split has no output of 'cue_following')" in ln for ln in lines
        )
    finally:
        PROBES._entries.pop("reads_cue")


def test_a_regression_sweep_without_its_attack_is_a_one_line_error():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x, y = torch.rand(8, 1, 4, 4), torch.rand(8, 3)
    ctx = probe_context(model, x, y, task="regression", meta={"n_emotions": 3})
    spec = {"clean": {}, "sweep": {"eps": [0.1], "thresholds": [0.5]}}
    with pytest.raises(
        IrbenchError, match=r"evaluate.sweep: a regression sweep needs 'thresholds' and 'attack'"
    ):
        run_probes(ctx, spec)


def test_a_regression_sweep_reports_the_eps_that_costs_a_given_drop_in_correlation():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x = torch.rand(64, 1, 4, 4)
    with torch.no_grad():
        y = model(x) + 0.05 * torch.randn(64, 3)
    bim = {"method": "bim", "norm": "linf", "eps": 0.01, "step": 0.01, "steps": 2}
    eps = [0.001, 0.01, 0.1, 1.0]
    spec = {
        "clean": {},
        "attacks": {"bim": bim},
        "sweep": {"eps": eps, "attack": "bim", "thresholds": [-2.0]},
    }
    spec["sweep"]["drops"] = [0.05, 5.0]
    ctx = probe_context(model, x, y, task="regression", meta={"n_emotions": 3}, spec_root=spec)
    metrics, data, _ = run_probes(ctx, spec)
    clean = metrics["corr_clean"]
    first = next(r["eps"] for r in data["sweep"] if r["corr"] <= clean - 0.05)
    assert metrics["eps_drop_0.05"] == first and first > 0.001
    assert "eps_drop_5" not in metrics and "eps_below_-2" not in metrics  # never reached: missing
    from irbench.probes.sweep import run as sweep_run

    # without the clean probe's output, the sweep computes the clean correlation itself: the same eps
    bare = probe_context(model, x, y, task="regression", meta={"n_emotions": 3}, spec_root=spec)
    alone = sweep_run(bare, spec["sweep"]).metrics
    assert alone["eps_drop_0.05"] == metrics["eps_drop_0.05"]


def test_probes_run_in_float32_inside_a_callers_bf16_autocast():
    """Training may run under bf16 autocast; a probe called inside it still computes in float32."""
    torch.manual_seed(0)

    class Recording(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(48, 3))
            self.dtypes: set[torch.dtype] = set()

        def forward(self, x):
            out = self.net(x)
            self.dtypes.add(out.dtype)
            return out

    model = Recording()
    x = torch.rand(40, 3, 4, 4)
    y = model(x).argmax(1)
    spec = {"clean": {}, "attacks": {"a": {"method": "pgd", "norm": "linf", "eps": 0.1, "steps": 2}}}
    plain, _, _ = run_probes(probe_context(model, x, y), spec)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert model(x).dtype == torch.bfloat16  # the caller's autocast does act on this model
        model.dtypes.clear()
        inside, _, _ = run_probes(probe_context(model, x, y), spec)
    assert model.dtypes == {torch.float32} and inside == plain


def test_a_probe_reads_what_another_hands_on_by_its_declared_type():
    """Typed hand-offs: the attributions probe hands on AttributionMaps, the attack probes AttackRuns; a
    reader asking for a hand-off that is missing or of another type stops in one line naming the probe."""
    from irbench.probes import ProbeOutput
    from irbench.probes._threats import AttackRuns
    from irbench.probes.attributions import AttributionMaps

    model = _pixel_model()
    x, y = torch.rand(4, 3, 8, 8), torch.zeros(4, dtype=torch.long)
    ctx = probe_context(model, x, y)
    runs = AttackRuns()
    runs.file({"method": "pgd", "norm": "l2", "eps": 0.5}, "l2_pgd", torch.ones(4, dtype=torch.bool))
    ctx.outputs["attacks"] = ProbeOutput({}, handoff=runs)
    assert ctx.handoff("attacks", AttackRuns).by_threat[("l2", 0.5)]["l2_pgd"].method == "pgd"
    with pytest.raises(IrbenchError, match=r"probe 'attacks' gave no AttributionMaps \(it must run before"):
        ctx.handoff("attacks", AttributionMaps)
    with pytest.raises(IrbenchError, match="probe 'attributions' gave no AttributionMaps"):
        ctx.handoff("attributions", AttributionMaps)
