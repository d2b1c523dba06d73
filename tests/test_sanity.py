"""Sanity checks: rank correlation as scipy computes it; a model-blind explanation is flagged by both
tests, a gradient explanation of a trained model is not; the probe reports both per method."""

import warnings

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr
from torch import nn

from irbench.explain.localisation import edge_map
from irbench.explain.sanity import cascading_randomisation, parameter_layers, random_logit, spearman

from .conftest import probe_context


def _model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)
    ).eval()


def _gradient(model, x, target):
    x = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(x).gather(1, target[:, None]).sum(), x)
    return g * x


def test_spearman_matches_scipy_with_ties():
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 5, (4, 2, 6, 6), generator=g).float()  # many ties
    b = torch.rand(4, 2, 6, 6, generator=g)
    ours = spearman(a, b)
    for i in range(4):
        theirs = spearmanr(a[i].abs().sum(0).flatten(), b[i].abs().sum(0).flatten()).statistic
        assert abs(ours[i].item() - theirs) < 1e-6


def test_parameter_layers_run_from_the_output_down():
    model = _model()
    assert [type(m).__name__ for m in parameter_layers(model)] == ["Linear", "BatchNorm2d", "Conv2d"]


def test_model_blind_maps_are_flagged_gradients_are_not():
    model, x = _model(), torch.rand(8, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    target = model(x).argmax(1)

    def grad(m, t):
        return _gradient(m, x, t)

    def edges(m, t):
        return edge_map(x)[:, None].expand_as(x)

    g_curve = cascading_randomisation(model, grad, target, grad(model, target), 3, seed=0)
    e_curve = cascading_randomisation(model, edges, target, edges(model, target), 3, seed=0)
    assert np.allclose(e_curve, 1.0) and len(g_curve) == 3 and g_curve[-1] < 0.9
    assert random_logit(edges, model, target, edges(model, target), 3, seed=0) == 1.0
    assert random_logit(grad, model, target, grad(model, target), 3, seed=0) < 0.9
    # the model itself is left as it was
    assert torch.equal(model(x).argmax(1), target)


def test_probe_reports_mprt_and_random_logit_per_method():
    from irbench.probes import PROBES

    model, x = _model(), torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    settings = {
        "methods": ["ig", "shap"],
        "n_images": 6,
        "n_baselines": 2,
        "n_figure": 2,
        "ig_steps": 4,
        "internal_batch_size": 64,
    }
    settings |= {"shap_samples": 4, "ig_baselines": 2}
    ctx = probe_context(model, x, y, {}, meta={"n_classes": 3}, spec_root={"attributions": settings})
    ctx.outputs["attributions"] = PROBES.get("attributions").run(ctx, settings)
    out = PROBES.get("sanity").run(ctx, {"n_images": 4, "n_stages": 2})
    assert set(out.metrics) == {
        f"{m}_{k}" for m in ("ig", "shap") for k in ("mprt_top", "mprt_all", "random_logit")
    }
    assert all(-1 <= v <= 1 for v in out.metrics.values())
    assert len(out.data["ig"]["mprt_cascade"]) == 2


def test_cascading_randomisation_equals_quantus_mprt_layer_by_layer():
    """With one stage per layer, the cascade gives Quantus 0.6.0's MPRT (top-down, Spearman rank
    correlation of the absolute maps) at every layer, on the same model, images and explanation."""
    quantus = pytest.importorskip("quantus")  # installed by scripts/setup.sh (requirements-nodeps.txt)
    model, x = _model(), torch.rand(6, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    target = model(x).argmax(1)

    def explain(m, t):
        return _gradient(m, x, t).abs().sum(1, keepdim=True)

    def explain_func(model, inputs, targets, **kwargs):
        return explain(model, torch.tensor(targets)).detach().numpy()

    ours = cascading_randomisation(model, explain, target, explain(model, target), 3, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = quantus.MPRT(
            similarity_func=quantus.similarity_func.correlation_spearman,
            layer_order="top_down",
            seed=6,  # both seed each layer with seed + 1
            return_aggregate=False,
            disable_warnings=True,
        )(
            model=model,
            x_batch=x.numpy(),
            y_batch=target.numpy(),
            a_batch=explain(model, target).detach().numpy(),
            explain_func=explain_func,
            device="cpu",
        )
    per_layer = [float(np.mean(v)) for k, v in theirs.items() if k != "original"]  # the model itself
    assert list(theirs)[0] == "original" and len(per_layer) == len(parameter_layers(model)) == 3
    np.testing.assert_allclose(ours, per_layer, atol=1e-5)
