import pytest
import torch
import torch.nn.functional as F

from irbench.evaluation import eps_sweep, eps_to_threshold
from irbench.metrics.regression import mae, mean_pearson, pearson_per_column
from irbench.models.vgg import MERNet
from irbench.probes import run_probes

from .conftest import probe_context


def test_network_shapes_heads_and_width():
    x = torch.randn(2, 1, 313, 149)
    a2e, bott = MERNet("a2e", width=0.125).eval(), MERNet("bottleneck", width=0.125).eval()
    assert a2e(x).shape == (2, 8) and a2e.features(x).shape == (2, 32)
    emo, mid = bott.forward_both(x)
    assert emo.shape == (2, 8) and mid.shape == (2, 7)
    assert torch.allclose(bott.head(mid), emo)  # linear 7 -> 8, no nonlinearity
    full = MERNet("a2e")
    assert full.feature_dim == 256 and full.body[0].kernel_size == (5, 5) and full.body[0].stride == (2, 2)
    with pytest.raises(AttributeError):
        a2e.bottleneck(x)


def test_pearson_and_mae_against_numpy():
    g = torch.Generator().manual_seed(0)
    y = torch.randn(50, 3, generator=g)
    p = y * 2 + 0.5 * torch.randn(50, 3, generator=g)
    import numpy as np

    expected = [np.corrcoef(p[:, k], y[:, k])[0, 1] for k in range(3)]
    assert pearson_per_column(p, y).numpy() == pytest.approx(expected, abs=1e-5)
    assert mean_pearson(p, y) == pytest.approx(np.mean(expected), abs=1e-5)
    assert mae(p, y) == pytest.approx((p - y).abs().mean().item())
    assert pearson_per_column(torch.ones(5, 2), torch.randn(5, 2)).tolist() == [0.0, 0.0]


def _fitted():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    x = 3 * torch.randn(64, 1, 4, 4)  # standardised inputs: far outside [0, 1]
    y = model(x).detach() + 0.01 * torch.randn(64, 2)
    return model, x, y


def test_bim_regression_respects_eps_and_hurts_correlation():
    model, x, y = _fitted()
    attack = {"method": "bim", "norm": "linf", "eps": 0.05, "step": 0.02, "steps": 5}
    ctx = probe_context(model, x, y, task="regression", meta={"n_emotions": 2})
    m, _, _ = run_probes(ctx, {"clean": {}, "attacks": {"bim": attack}})
    assert m["corr_clean"] > 0.95 and m["corr_bim"] < m["corr_clean"]
    assert m["corr_drop_bim"] == pytest.approx(m["corr_clean"] - m["corr_bim"])
    assert m["norm_bim"] <= 0.05 * 4 + 1e-6  # L-inf bound holds: L2 <= eps * sqrt(16)
    sweep = eps_sweep(model, x, y, attack, [0.01, 0.1, 1.0], batch_size=32)
    assert [r["eps"] for r in sweep] == [0.01, 0.1, 1.0]
    assert sweep[0]["corr"] > sweep[-1]["corr"] and sweep[0]["norm"] < sweep[-1]["norm"]
    thr = eps_to_threshold(sweep, [0.99, -2.0])
    assert thr["eps_below_0.99"] in (0.01, 0.1, 1.0) and thr["eps_below_-2"] is None
    assert F.mse_loss(model(x), y) < 0.01


def test_dropout_rate_is_configurable_and_the_paper_rate_by_default():
    from irbench.models import build_model

    rates = [
        [
            m.p
            for m in build_model({"arch": "mer_vgg", **extra}, n_classes=0, in_channels=1).body
            if isinstance(m, torch.nn.Dropout2d)
        ]
        for extra in ({}, {"dropout": 0.0})
    ]
    assert rates == [[0.3, 0.3], [0.0, 0.0]]


def test_layers_and_initialisation_are_the_reference_codes():
    """Dropout only after the two pools (none before the 1x1 convolution); Kaiming-normal (fan_in, ReLU)
    weights: a conv's weight std is sqrt(2 / fan_in); zero linear biases."""
    import math

    from torch import nn

    from irbench.models.vgg import MERNet

    torch.manual_seed(0)
    net = MERNet("bottleneck", width=1.0)
    kinds = [type(m).__name__ for m in net.body]
    drops = [i for i, k in enumerate(kinds) if k == "Dropout2d"]
    assert len(drops) == 2 and all(kinds[i - 1] == "MaxPool2d" for i in drops)
    convs = [m for m in net.body if isinstance(m, nn.Conv2d)]
    assert convs[-1].kernel_size == (1, 1)
    big = convs[5]  # 256 -> 384, 3x3: fan_in 2304, plenty of weights for the std
    assert big.weight.std().item() == pytest.approx(math.sqrt(2 / (256 * 9)), rel=0.02)
    assert torch.all(net.mid.bias == 0) and torch.all(net.head.bias == 0)


def test_linear_baseline_reads_band_statistics_and_has_no_bottleneck():
    """The spectrogram_linear baseline: per-band mean and std over time, one linear map, no bottleneck."""
    from irbench.models import build_model

    net = build_model({"arch": "spectrogram_linear", "n_bands": 6}, n_classes=0, in_channels=1)
    x = torch.randn(4, 1, 30, 6)
    feats = net.features(x)
    assert feats.shape == (4, 12)
    assert torch.allclose(feats[:, :6], x[:, 0].mean(1)) and torch.allclose(feats[:, 6:], x[:, 0].std(1))
    emotions, mid = net.forward_both(x)
    assert emotions.shape == (4, 8) and mid is None
