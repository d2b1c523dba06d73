"""The MER reference attack, batched: the same per clip as attacking each clip alone; thresholds fall
from ceil(corr * 10) / 10; the norms that reached each threshold are reported."""

import math

import torch
import torch.nn.functional as F

from irbench.attacks import ATTACKS
from irbench.attacks.mer_reference import reference_attack, row_pearson
from irbench.models.vgg import MERNet


def _setup(n=5):
    torch.manual_seed(0)
    model = MERNet("a2e", width=0.125).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(n, 1, 40, 24, generator=g)
    with torch.no_grad():
        y = model(x) + 0.05 * torch.randn(n, 8, generator=g)  # targets the model nearly predicts
    return model, x, y


def test_batched_equals_one_clip_at_a_time():
    model, x, y = _setup()
    kw = {"lr": 0.01, "steps": 40, "eps": 1000.0, "thresholds": (0.5, 0.0)}
    adv, info = reference_attack(model, x, y, F.mse_loss, **kw)
    for i in range(len(x)):
        one, one_info = reference_attack(model, x[i : i + 1], y[i : i + 1], F.mse_loss, **kw)
        assert torch.allclose(adv[i], one[0], atol=1e-5), i
        for k, v in info.items():
            a, b = v[i].item(), one_info[k][0].item()
            assert (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-4, (i, k)


def test_clips_that_stop_early_leave_the_batch_and_the_rest_are_unchanged():
    """Three clips with far targets cross -0.9 and stop at different steps; the others run every step. Each
    equals the clip attacked alone, and the model sees only the running clips."""
    torch.manual_seed(0)
    linear = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(40 * 24, 8)).eval()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 1, 40, 24, generator=g)
    with torch.no_grad():
        y = linear(x) + 0.05 * torch.randn(6, 8, generator=g)
    y[:3] = 5 * torch.randn(3, 8, generator=g)
    seen: list[int] = []
    linear.register_forward_pre_hook(lambda _, args: seen.append(len(args[0])))
    kw = {"lr": 0.01, "steps": 60, "eps": 1000.0, "thresholds": (0.0,)}
    adv, info = reference_attack(linear, x, y, F.mse_loss, **kw)
    stopped = info["iterations"] < 60
    assert stopped[:3].all() and not stopped[3:].any() and len(set(info["iterations"][:3].tolist())) > 1
    assert seen[0] == 6 and seen[-1] == 3 and len(seen) == 60
    for i in range(len(x)):
        one, one_info = reference_attack(linear, x[i : i + 1], y[i : i + 1], F.mse_loss, **kw)
        assert torch.allclose(adv[i], one[0], atol=1e-5), i
        assert one_info["iterations"][0] == info["iterations"][i]


def test_correlation_falls_and_thresholds_are_reported():
    model, x, y = _setup()
    adv, info = reference_attack(
        model, x, y, F.mse_loss, lr=0.02, steps=200, eps=1000.0, thresholds=(0.9, 0.7)
    )
    with torch.no_grad():
        before, after = row_pearson(model(x), y), row_pearson(model(adv), y)
    # a clip that never crossed its next threshold keeps its last crossing's perturbation (here: none)
    assert (after <= before + 1e-9).all() and (after < before - 0.1).any()
    reached = ~torch.isnan(info["norm_to_0.9"])
    assert reached.any() and (info["norm_to_0.9"][reached] > 0).all()
    both = reached & ~torch.isnan(info["norm_to_0.7"])
    assert both.any() and (info["norm_to_0.7"][both] >= info["norm_to_0.9"][both]).all()  # lower: more
    # the perturbation kept is the last that crossed a threshold, so the clip's correlation is at most the
    # first threshold, ceil(corr * 10) / 10
    assert (after <= torch.ceil(before * 10) / 10 + 1e-6).all()


def test_the_eps_bound_is_applied_and_the_registry_runs_it():
    model, x, y = _setup(3)
    adv, _ = reference_attack(model, x, y, F.mse_loss, lr=0.05, steps=30, eps=0.01)
    assert (adv - x).abs().max() <= 0.01 + 1e-6
    spec = {"method": "mer_reference", "norm": "linf", "eps": 0.01, "step": 0.05, "steps": 30}
    same = ATTACKS.get("mer_reference").run(model, x, y, F.mse_loss, spec, bounds=None, generator=None)
    assert torch.allclose(same, adv)
