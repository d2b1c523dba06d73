"""Figures: print resolution, units, chance level, class names and colour ranges that fit the data."""

import matplotlib
import torch
from PIL import Image

from irbench.figures import DPI, attribution_grid, corruption_heatmap, robustness_curves

matplotlib.use("Agg")


def _dpi(path) -> float:
    return Image.open(path).info["dpi"][0]


def test_attribution_grid_names_classes_and_has_colour_bars(tmp_path, monkeypatch):
    import matplotlib.figure

    texts, bars = [], []
    monkeypatch.setattr(matplotlib.axes.Axes, "text", lambda self, *a, **k: texts.append(a[2]))
    real = matplotlib.figure.Figure.colorbar
    monkeypatch.setattr(
        matplotlib.figure.Figure, "colorbar", lambda self, *a, **k: bars.append(k) or real(self, *a, **k)
    )
    run = {
        "variant": "standard",
        "images": torch.rand(2, 3, 8, 8),
        "ig": torch.rand(2, 3, 8, 8),
        "labels": torch.tensor([0, 1]),
        "preds": torch.tensor([1, 1]),
        "class_names": ["disk", "square"],
    }
    attribution_grid([run], tmp_path / "a.png", "t")
    assert texts == ["pred: square", "pred: square"] and len(bars) == 1
    assert round(_dpi(tmp_path / "a.png")) == DPI


def test_robustness_curves_are_in_percent_with_chance_and_the_heatmap_range_fits(tmp_path, monkeypatch):
    import matplotlib.axes

    lines, images = [], []
    real_axh, real_imshow = matplotlib.axes.Axes.axhline, matplotlib.axes.Axes.imshow
    monkeypatch.setattr(
        matplotlib.axes.Axes, "axhline", lambda s, y, **k: lines.append(y) or real_axh(s, y, **k)
    )
    monkeypatch.setattr(
        matplotlib.axes.Axes, "imshow", lambda s, a, **k: images.append(k) or real_imshow(s, a, **k)
    )
    rows = [{"eps": 1 / 255, "acc_pgd": 0.5}, {"eps": 2 / 255, "acc_pgd": 0.3}]
    recs = [
        {"variant": "v", "seed": s, "n_classes": 4, "sweep": rows, "corruptions": {"fog": [0.04, 0.11]}}
        for s in (0, 1)
    ]
    robustness_curves(recs, tmp_path / "r.png", "t")
    assert lines == [25.0]  # chance for 4 classes, in %
    corruption_heatmap(recs, tmp_path / "c.png", "t")
    assert images[-1]["vmin"] == 4.0 and images[-1]["vmax"] == 11.0  # not 0-100
    assert round(_dpi(tmp_path / "c.png")) == DPI


def _recorded(monkeypatch, method: str) -> list:
    """The first argument of every call of matplotlib's Axes.<method>, which still runs."""
    import matplotlib.axes

    calls = []
    real = getattr(matplotlib.axes.Axes, method)
    monkeypatch.setattr(matplotlib.axes.Axes, method, lambda s, t, **k: calls.append(t) or real(s, t, **k))
    return calls


def test_robustness_curves_draw_one_panel_per_norm_and_attack(tmp_path, monkeypatch):
    """The vision sweep's L-inf FGSM, L-inf PGD and L2 PGD rows each get a panel with their norm's eps."""
    xlabels = _recorded(monkeypatch, "set_xlabel")
    rows = [
        {"eps": 1 / 255, "threat": "linf", "acc_fgsm": 0.6, "acc_pgd": 0.5},
        {"eps": 2 / 255, "threat": "linf", "acc_fgsm": 0.4, "acc_pgd": 0.3},
        {"eps": 0.25, "threat": "l2", "acc_pgd": 0.7},
        {"eps": 0.5, "threat": "l2", "acc_pgd": 0.5},
        {"eps": 1.0, "threat": "l2", "acc_pgd": 0.2},
    ]
    recs = [{"variant": "v", "seed": s, "n_classes": 10, "sweep": rows} for s in (0, 1)]
    robustness_curves(recs, tmp_path / "r.png", "t")
    assert [x.split(";")[0] for x in xlabels] == ["attack eps (L-inf", "attack eps (L-inf", "attack eps (L2"]
    from irbench.figures import _eps_tick

    assert (_eps_tick(8 / 255), _eps_tick(1.0, "l2"), _eps_tick(0.5, "l2")) == ("8/255", "1", "0.5")


def test_regression_sweep_rows_plot_correlation_not_their_perturbation_norm(tmp_path, monkeypatch):
    """A regression sweep row's `norm` is the perturbation size, not a threat: one correlation panel."""
    ylabels = _recorded(monkeypatch, "set_ylabel")
    recs = [
        {
            "variant": v,
            "seed": s,
            "sweep": [{"eps": e, "corr": 0.5 - e, "norm": 10 * e + s} for e in (0.01, 0.1)],
        }
        for v in ("A2E", "aA2E")
        for s in (0, 1)
    ]
    robustness_curves(recs, tmp_path / "r.png", "t")
    assert ylabels == ["mean Pearson correlation under attack"]
