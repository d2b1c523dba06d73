import torch
import torch.nn.functional as F
from torch import nn

from irbench.objectives import build_objective
from irbench.objectives.adversarial import adversarial


def _setup():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    return model, torch.rand(16, 3, 2, 2), torch.randint(0, 3, (16,))


def test_adversarial_loss_exceeds_clean_loss_and_keeps_train_mode():
    model, x, y = _setup()
    model.train()
    attack = {"method": "pgd", "norm": "l2", "eps": 0.5, "step": 0.2, "steps": 3, "random_start": False}
    loss, out = adversarial(attack)(model, x, y, 0)
    assert model.training and out.shape == (16, 3)
    assert loss > F.cross_entropy(model(x), y)


def test_warmup_scales_eps_linearly_over_the_first_epochs():
    model, x, y = _setup()
    attack = {"method": "fgsm", "norm": "linf", "eps": 0.3, "steps": 1}
    seen = []
    obj = adversarial(attack, warmup_epochs=3)
    model.register_forward_pre_hook(lambda m, inp: seen.append((inp[0] - x).abs().amax().item()))
    for epoch in (0, 1, 2, 5):
        seen.clear()
        obj(model, x, y, epoch)
        # forward passes: the attack's gradient step on the clean input, then the training step.
        assert abs(seen[-1] - 0.3 * min(1, (epoch + 1) / 3)) < 1e-5


def test_build_objective_reads_the_variant_spec():
    model, x, y = _setup()
    std = build_objective({"objective": "standard"})
    loss, _ = std(model, x, y, 0)
    assert torch.isclose(loss, F.cross_entropy(model(x), y))


def test_trades_adds_beta_times_the_kl_to_the_attacked_outputs():
    from irbench.objectives.trades import trades

    model, x, y = _setup()
    attack = {"method": "pgd", "norm": "linf", "eps": 0.3, "step": 0.1, "steps": 3, "random_start": True}
    gen = torch.Generator().manual_seed(0)
    loss0, out = trades(attack, 0.0, gen)(model.train(), x, y, 0)
    assert torch.isclose(loss0, F.cross_entropy(model(x), y)) and out.shape == (16, 3)
    loss6, _ = trades(attack, 6.0, torch.Generator().manual_seed(0))(model, x, y, 0)
    assert loss6 > loss0 and model.training


def test_objective_registry_declares_scores_masks_and_variant_keys():
    from irbench.objectives import OBJECTIVES

    # the ones the studies use; a new objective (one file) keeps this test green
    assert {"adversarial", "mer", "refine", "standard", "trades"} <= set(OBJECTIVES.names())
    assert OBJECTIVES.get("trades").score == "clean_and_adversarial"
    assert OBJECTIVES.get("standard").score == "clean" and OBJECTIVES.get("refine").uses_region_mask
    assert "beta" in OBJECTIVES.get("trades").schema["properties"]
