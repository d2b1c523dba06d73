import pytest
import torch
import torch.nn.functional as F
from torch import nn

from irbench.attacks import project, run_attack
from irbench.attacks.fgsm import fgsm
from irbench.attacks.projected import pgd
from irbench.errors import IrbenchError


def _classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, 5)).eval()


def _batch(n=64, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, 8, 8, generator=g), torch.randint(0, 5, (n,), generator=g)


def _norms(delta, norm):
    flat = delta.flatten(1)
    return flat.norm(dim=1) if norm == "l2" else flat.abs().amax(dim=1)


@pytest.mark.parametrize("norm,eps,step", [("l2", 0.5, 0.1), ("linf", 8 / 255, 2 / 255)])
@pytest.mark.parametrize("random_start", [False, True])
def test_pgd_stays_within_eps_and_range_and_raises_loss(norm, eps, step, random_start):
    model, (x, y) = _classifier(), _batch()
    x_adv = pgd(
        model, x, y, F.cross_entropy, eps=eps, step=step, steps=10, norm=norm, random_start=random_start
    )
    assert x_adv.shape == x.shape and not x_adv.requires_grad
    assert (_norms(x_adv - x, norm) <= eps + 1e-5).all()
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    with torch.no_grad():
        assert F.cross_entropy(model(x_adv), y) > F.cross_entropy(model(x), y) + 1e-3


@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_fgsm_and_bim_respect_bounds_and_raise_loss(norm):
    model, (x, y) = _classifier(), _batch()
    eps = 0.5 if norm == "l2" else 0.03
    for x_adv in (
        fgsm(model, x, y, F.cross_entropy, eps=eps, norm=norm),
        run_attack(
            model,
            x,
            y,
            F.cross_entropy,
            {"method": "bim", "norm": norm, "eps": eps, "step": eps / 4, "steps": 8},
        ),
    ):
        assert (_norms(x_adv - x, norm) <= eps + 1e-5).all()
        assert 0 <= x_adv.min() and x_adv.max() <= 1
        with torch.no_grad():
            assert F.cross_entropy(model(x_adv), y) > F.cross_entropy(model(x), y)


def test_linf_fgsm_uses_the_full_budget_away_from_the_box():
    model = _classifier()
    x = torch.full((8, 3, 8, 8), 0.5)
    y = torch.zeros(8, dtype=torch.long)
    x_adv = fgsm(model, x, y, F.cross_entropy, eps=0.1, norm="linf")
    assert torch.allclose((x_adv - x).abs().amax(dim=(1, 2, 3)), torch.full((8,), 0.1), atol=1e-6)


def test_projection_clips_to_valid_range_near_the_boundary():
    x = torch.ones(4, 3, 8, 8) * 0.99
    delta = torch.ones_like(x)
    out = project(delta, x, eps=0.5, norm="l2", bounds=(0.0, 1.0))
    assert (x + out).max() <= 1.0 + 1e-7
    assert (_norms(out, "l2") <= 0.5 + 1e-6).all()


def test_bim_attacks_a_regressor_with_mse():
    torch.manual_seed(0)
    reg = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 8)).eval()
    x, _ = _batch()
    target = torch.rand(len(x), 8)
    bim = {"method": "bim", "norm": "l2", "eps": 0.3, "step": 0.05, "steps": 10}
    x_adv = run_attack(reg, x, target, F.mse_loss, bim)
    assert (_norms(x_adv - x, "l2") <= 0.3 + 1e-5).all()
    with torch.no_grad():
        assert F.mse_loss(reg(x_adv), target) > F.mse_loss(reg(x), target)


def test_attack_leaves_model_mode_and_parameter_grads_untouched():
    model, (x, y) = _classifier(), _batch()
    model.train()
    pgd(model, x, y, F.cross_entropy, eps=0.5, step=0.1, steps=3)
    assert model.training
    assert all(p.grad is None for p in model.parameters())


def test_run_attack_dispatches_on_the_configuration_entry():
    model, (x, y) = _classifier(), _batch()
    spec = {"method": "pgd", "norm": "linf", "eps": 0.05, "steps": 5, "random_start": False}
    expected = pgd(
        model, x, y, F.cross_entropy, eps=0.05, step=2.5 * 0.05 / 5, steps=5, norm="linf", random_start=False
    )
    assert torch.equal(run_attack(model, x, y, F.cross_entropy, spec), expected)
    with pytest.raises(IrbenchError, match="unknown attack 'cw' .expected one of: .*pgd"):
        run_attack(model, x, y, F.cross_entropy, {**spec, "method": "cw"})


def test_uniform_noise_stays_in_the_ball_and_the_box_and_is_seeded():
    model, (x, y) = _classifier(), _batch()
    for norm, eps in (("linf", 0.1), ("l2", 0.5)):
        spec = {"method": "uniform_noise", "norm": norm, "eps": eps, "steps": 1}
        adv = run_attack(model, x, y, F.cross_entropy, spec, generator=torch.Generator().manual_seed(0))
        delta = (adv - x).flatten(1)
        size = delta.abs().amax(1) if norm == "linf" else delta.norm(dim=1)
        assert (size <= eps + 1e-6).all() and (size > 0).all() and adv.min() >= 0 and adv.max() <= 1
        again = run_attack(model, x, y, F.cross_entropy, spec, generator=torch.Generator().manual_seed(0))
        assert torch.equal(adv, again)


def test_accuracy_sweep_covers_linf_fgsm_pgd_and_l2_pgd_with_falling_accuracy():
    from irbench.evaluation import accuracy_sweep

    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    x = torch.rand(64, 3, 2, 2)
    y = model(x).argmax(1)  # every clean image correct
    spec = {"eps": [1 / 255, 32 / 255], "l2_eps": [0.05, 2.0], "pgd_steps": 5, "pgd_step_factor": 2.5}
    rows, flat, runs = accuracy_sweep(model, x, y, spec, generator=torch.Generator().manual_seed(0))
    assert [(r["threat"], r["eps"]) for r in rows] == [
        ("linf", 1 / 255),
        ("linf", 32 / 255),
        ("l2", 0.05),
        ("l2", 2.0),
    ]
    assert set(flat) == {
        "acc_fgsm_1",
        "acc_pgd_1",
        "acc_fgsm_32",
        "acc_pgd_32",
        "acc_pgd_l2_0.05",
        "acc_pgd_l2_2",
    }
    assert "acc_fgsm" not in rows[2]  # FGSM is an L-inf attack
    assert flat["acc_pgd_l2_2"] < flat["acc_pgd_l2_0.05"] and flat["acc_pgd_32"] < flat["acc_pgd_1"]
    assert [r[0]["norm"] for r in runs][-2:] == ["l2", "l2"] and len(runs) == 6


def test_bim_is_pgd_from_the_clean_input():
    model, (x, y) = _classifier(), _batch()
    spec = {"norm": "linf", "eps": 0.03, "step": 0.01, "steps": 5}
    bim = run_attack(model, x, y, F.cross_entropy, {"method": "bim", **spec, "random_start": True})
    pgd_clean = run_attack(model, x, y, F.cross_entropy, {"method": "pgd", **spec, "random_start": False})
    assert torch.equal(bim, pgd_clean)
