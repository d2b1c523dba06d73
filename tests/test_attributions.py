import torch
from torch import nn

from irbench.explain.attributions import expected_gradients, integrated_gradients, mask_mass


def _pixel_model():
    """A linear classifier that only looks at the top-left pixel block."""
    torch.manual_seed(0)
    lin = nn.Linear(3 * 4 * 4, 2)
    with torch.no_grad():
        lin.weight.zero_()
        w = torch.zeros(3, 4, 4)
        w[:, :2, :2] = 1.0
        lin.weight[1] = w.flatten()
    return nn.Sequential(nn.Flatten(), lin)


def test_attributions_land_where_the_model_looks():
    model, x = _pixel_model(), torch.rand(6, 3, 4, 4)
    mask = torch.zeros(6, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    target = torch.ones(6, dtype=torch.long)
    ig = integrated_gradients(model, x, target, steps=16, internal_batch_size=32)
    shap = expected_gradients(model, x, target, torch.rand(10, 3, 4, 4), samples=8)
    assert ig.shape == x.shape and shap.shape == x.shape
    assert (mask_mass(ig, mask) > 0.999).all()
    assert (mask_mass(shap, mask) > 0.999).all()


def test_ig_completeness_on_the_softmax_output():
    model, x = _pixel_model(), torch.rand(4, 3, 4, 4)
    target = torch.ones(4, dtype=torch.long)
    ig = integrated_gradients(model, x, target, steps=200)
    probs = torch.softmax(model(x), 1)[:, 1] - torch.softmax(model(torch.zeros_like(x)), 1)[:, 1]
    # captum weights the trapezoid nodes by 1/n_steps, so the sum is within ~1/n_steps of the gap.
    assert torch.allclose(ig.flatten(1).sum(1), probs.detach(), rtol=0.01)


def test_mask_mass_of_uniform_attributions_equals_mask_area():
    attr = torch.ones(2, 3, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, 0] = True
    assert torch.allclose(mask_mass(attr, mask), torch.full((2,), 0.25))


def test_battery_reports_mass_per_method_and_mask_and_figure_is_written(tmp_path):
    from irbench.evaluation import attribution_battery
    from irbench.figures import attribution_grid
    from irbench.io import save_torch

    model, x = _pixel_model(), torch.rand(5, 3, 4, 4)
    y = torch.ones(5, dtype=torch.long)
    mask = torch.zeros(5, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    spec = {"ig_steps": 8, "internal_batch_size": 16, "shap_samples": 4}
    metrics, attrs = attribution_battery(
        model, x, y, torch.rand(3, 3, 4, 4), spec, {"object": mask, "cue": ~mask}
    )
    assert metrics["ig_object_mass"] > 0.99 and metrics["shap_cue_mass"] < 0.01
    files = []
    for variant in ("standard", "l2_robust"):
        files.append(tmp_path / f"{variant}.attr.pt")
        save_torch(
            {"images": x[:2], "labels": y[:2], "variant": variant, **{k: v[:2] for k, v in attrs.items()}},
            files[-1],
        )
    attribution_grid(files, tmp_path / "grid.png", "test")
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
