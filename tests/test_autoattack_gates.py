"""The AutoAttack probe (pyautoattack, worst case over every attack at a threat model) and the gates that
check the evaluation worked."""

from __future__ import annotations

import torch
from torch import nn

from irbench.probes import ProbeOutput, run_probes
from irbench.probes._threats import Run
from irbench.probes.gates import check_monotone, check_order

from .conftest import probe_context

LINF = 0.1
ATTACKS = {
    "fgsm": {"method": "fgsm", "norm": "linf", "eps": LINF, "steps": 1},
    "pgd": {"method": "pgd", "norm": "linf", "eps": LINF, "steps": 10, "step": 0.025},
}
AA = {"version": "custom", "attacks": ["apgd-ce"], "threats": [{"norm": "linf", "eps": LINF}], "n_iter": 10}


def _linear(n: int = 120):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(48, 4)).eval()
    x = torch.rand(n, 3, 4, 4)
    with torch.no_grad():
        y = model(x).argmax(1)
    y[:10] = (y[:10] + 1) % 4  # a few wrong clean predictions
    return model, x, y


class _Flat(nn.Module):
    """Zero input gradient everywhere: the logits do not depend on the input (a masked model)."""

    def __init__(self) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor([2.0, 0.0, 0.0, 0.0]))

    def forward(self, x):
        return self.logits.expand(len(x), -1) + 0.0 * x.flatten(1).sum(1, keepdim=True)


def test_autoattack_and_the_worst_case_over_every_attack():
    model, x, y = _linear()
    spec = {"clean": {}, "attacks": ATTACKS, "autoattack": {**AA, "n_images": 100}, "gates": {}}
    lines = []
    m, data, _ = run_probes(probe_context(model, x, y, meta={"n_classes": 4}, log=lines.append), spec)
    # AutoAttack is at least as strong as PGD here, and the worst case is at most every single attack
    assert m["acc_aa_linf_0.1"] <= m["acc_pgd"] + 0.01 and m["acc_pgd"] <= m["acc_fgsm"] + 0.01
    assert m["acc_robust_linf_0.1"] <= min(m["acc_aa_linf_0.1"], m["acc_clean"])
    threat = data["autoattack"]["threats"]["linf_0.1"]
    assert set(threat["worst_case_over"]) == {"autoattack", "attacks:fgsm", "attacks:pgd"}
    assert "APGD-CE".lower() in threat["after_each_attack"] and data["autoattack"]["n_images"] == 100
    assert m["aa_warnings"] == 0.0
    # the gates: gradients flow, the attacks are ordered, L-inf 64/255 breaks this linear model; above chance
    assert {k: v for k, v in m.items() if k.startswith("gate_")} == {
        "gate_order": 1.0,
        "gate_gradients": 1.0,
        "gate_large_eps": 1.0,
        "gate_above_chance": 1.0,
    }
    assert any(ln.startswith("autoattack linf_0.1:") for ln in lines)


def test_gates_fail_on_a_model_without_gradients_and_at_chance():
    x = torch.rand(60, 3, 4, 4)
    y = torch.arange(60) % 4  # the model always says 0: 25% accuracy, chance level for 4 classes
    m, data, _ = run_probes(
        probe_context(_Flat().eval(), x, y, meta={"n_classes": 4}),
        {"clean": {}, "attacks": ATTACKS, "gates": {}},
    )
    assert m["gate_gradients"] == 0.0 and data["gates"]["gradients"]["zero_gradient_images"] == 60
    assert m["gate_large_eps"] == 0.0 and data["gates"]["large_eps"]["linf"]["accuracy"] == 0.25
    assert m["gate_above_chance"] == 0.0


def test_monotone_and_order_checks():
    rows = [{"eps": 0.1, "acc_pgd": 0.5}, {"eps": 0.01, "acc_pgd": 0.6}, {"eps": 0.2, "acc_pgd": 0.55}]
    ok, why = check_monotone(rows, 0.01)
    assert not ok and "acc_pgd (linf) rises from 0.500 at eps 0.1" in why[0]
    assert check_monotone(rows[:2], 0.01)[0]
    # each norm's rows are a line of their own: L2 eps 0.25 after L-inf eps 0.2 is no rise
    l2 = [{"eps": 0.25, "threat": "l2", "acc_pgd": 0.9}, {"eps": 0.5, "threat": "l2", "acc_pgd": 0.7}]
    assert check_monotone(rows[:2] + l2, 0.01)[0]
    ok, why = check_monotone(rows[:2] + l2 + [{"eps": 1.0, "threat": "l2", "acc_pgd": 0.8}], 0.01)
    assert not ok and why == ["acc_pgd (l2) rises from 0.700 at eps 0.5 to 0.800 at eps 1"]
    weak = Run("fgsm", torch.tensor([True, False, False, False]))
    strong = Run("autoattack", torch.tensor([True, True, False, False]))
    ok, why = check_order({"a:fgsm": weak, "b:aa": strong}, 0.01)
    assert not ok and "b:aa (autoattack) 0.500 > a:fgsm (fgsm) 0.250" in why[0]
    flipped = {"a:fgsm": Run("fgsm", strong.correct), "b:aa": Run("autoattack", weak.correct)}
    assert check_order(flipped, 0.01)[0]


def test_the_bite_gate_of_a_regressor():
    from irbench.probes.gates import run

    ctx = probe_context(nn.Identity(), torch.zeros(2, 1), torch.zeros(2, 1), task="regression")
    ctx.outputs["attacks"] = ProbeOutput({"corr_drop_bim": 0.004, "corr_bim": 0.7})
    out = run(ctx, {"min_drop": 0.05})
    assert out.metrics == {"gate_bite": 0.0} and out.data["bite"]["drops"] == {"corr_drop_bim": 0.004}
    ctx.outputs["attacks"] = ProbeOutput({"corr_drop_bim": 0.2})
    assert run(ctx, {"min_drop": 0.05}).metrics == {"gate_bite": 1.0}


def test_autoattack_killed_between_its_attacks_resumes_from_its_state_to_the_same_result(
    tmp_path, monkeypatch
):
    """AutoAttack's per-image state is kept after each whole attack: a run stopped inside APGD-T resumes
    after APGD-CE and ends with the flags, per-attack accuracies and warnings of an uninterrupted run."""
    from pyautoattack.autopgd_base import APGDAttack_targeted

    from irbench.probes.autoattack import autoattack_correct

    model, x, y = _linear(40)
    spec = {"version": "standard", "n_iter": 3, "n_queries": 20}
    threat = {"norm": "linf", "eps": 0.05}
    kw = {"seed": 0, "batch_size": 16, "device": torch.device("cpu"), "log": lambda m: None}
    whole = autoattack_correct(model, x, y, threat, spec, state=tmp_path / "whole.json", **kw)
    assert list(whole.after_each) == ["apgd-ce", "apgd-t", "fab-t", "square"] and whole.resumed == []
    assert whole.after_each["apgd-ce"] < (y == model(x).argmax(1)).float().mean().item()  # it bites

    def killed(self, *args, **kwargs):
        raise KeyboardInterrupt("killed inside APGD-T")

    state = tmp_path / "state.json"
    with monkeypatch.context() as m:
        m.setattr(APGDAttack_targeted, "perturb", killed)
        try:
            autoattack_correct(model, x, y, threat, spec, state=state, **kw)
        except KeyboardInterrupt:
            pass
    assert state.is_file()
    again = autoattack_correct(model, x, y, threat, spec, state=state, **kw)
    assert again.resumed == ["apgd-ce"]
    assert torch.equal(again.correct, whole.correct) and again.after_each == whole.after_each
    assert again.warnings == whole.warnings


def test_a_damaged_autoattack_state_is_started_over(tmp_path):
    from irbench.probes.autoattack import autoattack_correct

    model, x, y = _linear(20)
    state = tmp_path / "state.json"
    state.write_text('{"_robust_flags": [tru')  # cut by a kill mid-write (irbench writes atomically)
    said = []
    out = autoattack_correct(
        model,
        x,
        y,
        {"norm": "linf", "eps": 0.05},
        AA,
        seed=0,
        batch_size=16,
        device=torch.device("cpu"),
        state=state,
        log=said.append,
    )
    assert out.resumed == [] and "not used" in said[0] and len(out.correct) == 20
