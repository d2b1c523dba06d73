import torch
from torch import nn

from irbench.explain.localisation import mask_mass
from irbench.explain.methods.expected_gradients import expected_gradients
from irbench.explain.methods.integrated_gradients import integrated_gradients

from .conftest import probe_context


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


def _curved_model():
    torch.manual_seed(1)
    return nn.Sequential(nn.Flatten(), nn.Linear(48, 16), nn.Tanh(), nn.Linear(16, 3)).eval()


def test_ig_completeness_with_the_exact_trapezoid_at_50_steps():
    """The attributions sum to f(x) - f(baseline) within 0.5% at 50 steps (captum's riemann_trapezoid
    sums to 49/50 of it), for the black baseline and, averaged, for random ones."""
    model, x = _curved_model(), torch.rand(6, 3, 4, 4)
    target = torch.tensor([0, 1, 2, 0, 1, 2])

    def f(z):
        return torch.softmax(model(z), 1).gather(1, target[:, None])[:, 0].detach()

    ig = integrated_gradients(model, x, target, steps=50, baseline="black", internal_batch_size=7)
    gap = f(x) - f(torch.zeros_like(x))
    assert torch.allclose(ig.flatten(1).sum(1), gap, rtol=0.005)
    bases = torch.rand(4, *x.shape, generator=torch.Generator().manual_seed(3))

    def random_ig(**kw):
        return integrated_gradients(
            model,
            x,
            target,
            steps=50,
            baseline="random",
            n_baselines=4,
            generator=torch.Generator().manual_seed(3),
            **kw,
        )

    ig = random_ig()
    gap = torch.stack([f(x) - f(b) for b in bases]).mean(0)
    assert torch.allclose(ig.flatten(1).sum(1), gap, rtol=0.005, atol=1e-6)
    again = random_ig(internal_batch_size=5)  # the chunking of path points into passes changes nothing
    assert torch.allclose(ig, again, atol=1e-7)


def test_black_baseline_blinds_ig_to_black_pixels_random_does_not():
    """Why the default is the reference's random baselines: with a black baseline a black region gets
    exactly zero attribution, however much the model relies on it."""
    model, x = _pixel_model(), torch.rand(4, 3, 4, 4)
    x[:, :, :2, :2] = 0.0  # the region the model looks at is black
    target = torch.ones(4, dtype=torch.long)
    black = integrated_gradients(model, x, target, steps=16, baseline="black")
    random = integrated_gradients(
        model, x, target, steps=16, generator=torch.Generator().manual_seed(0), baseline="random"
    )
    assert black[:, :, :2, :2].abs().sum() == 0
    assert random[:, :, :2, :2].abs().sum() > 0


def test_mask_mass_of_uniform_attributions_equals_mask_area():
    attr = torch.ones(2, 3, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.bool)
    mask[:, 0] = True
    assert torch.allclose(mask_mass(attr, mask), torch.full((2,), 0.25))


def test_probe_reports_mass_per_method_and_mask_and_its_figure_is_drawn(tmp_path):
    from irbench.probes import PROBES

    model, x = _pixel_model(), torch.rand(8, 3, 4, 4)
    y = torch.ones(8, dtype=torch.long)
    mask = torch.zeros(8, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    spec = {
        "methods": ["ig", "shap"],
        "n_images": 5,
        "n_baselines": 3,
        "n_figure": 2,
        "ig_steps": 8,
        "internal_batch_size": 16,
    }
    probe = PROBES.get("attributions")
    payloads = []
    for variant in ("standard", "l2_robust"):
        ctx = probe_context(model, x, y, {"object_mask": mask, "cue_mask": ~mask}, variant=variant)
        out = probe.run(ctx, {**spec, "shap_samples": 4})
        assert out.metrics["ig_object_mass"] > 0.99 and out.metrics["shap_cue_mass"] < 0.01
        assert out.artifacts["ig"].shape == (2, 3, 4, 4) and out.artifacts["variant"] == variant
        payloads.append(out.artifacts)
    (figure,) = probe.figures
    figure.draw(payloads, str(tmp_path / "grid.png"), "test", spec)
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"
