"""Figures: attribution maps, generated images, inversions and unit visualisations of several models side
by side on the same images."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from irbench.io import atomic_path

DPI = 200  # every figure: print resolution, readable at column width


def _name(rec: Mapping[str, Any]) -> str:
    """A record's identity, for error messages."""
    return f"{rec.get('study')}/{rec.get('dataset')}/{rec.get('variant')}/seed{rec.get('seed')}"


def _heat(attr: torch.Tensor) -> torch.Tensor:
    """|attribution| summed over channels, scaled to [0, 1] per image."""
    h = attr.abs().sum(0)
    return h / h.max().clamp_min(1e-12)


def _class(run: Mapping[str, Any], key: str, i: int) -> str | None:
    """The class name (else number) of item i of a payload's `labels` or `preds`; None if absent."""
    if key not in run:
        return None
    k = int(run[key][i])
    names = run.get("class_names") or []
    return names[k] if k < len(names) else str(k)


def attribution_grid(runs: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str) -> None:
    """One row per image: the image (its true class), then each attribution method's map of each model (one
    payload each, with the model's prediction; irbench.explain.methods says how a method reads and whether
    its maps are signed), and the colour scales."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irbench.explain.methods import METHODS, label, order

    methods = runs[0].get("methods") or order(list(runs[0]))
    n = min(len(r["images"]) for r in runs)
    cols = 1 + len(runs) * len(methods)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.6 * n), squeeze=False)
    heat = signed = None  # the images the colour bars describe
    for i in range(n):
        axes[i, 0].imshow(runs[0]["images"][i].permute(1, 2, 0).clamp(0, 1).numpy())
        for j, run in enumerate(runs):
            for k, method in enumerate(methods):
                ax = axes[i, 1 + j * len(methods) + k]
                if method in METHODS and METHODS.get(method).signed:  # red for the class, blue against it
                    m = run[method][i].sum(0)
                    ax.imshow(run["images"][i].permute(1, 2, 0).clamp(0, 1).numpy())
                    scale = m.abs().max().clamp_min(1e-12)
                    signed = ax.imshow((m / scale).numpy(), cmap="bwr", vmin=-1, vmax=1, alpha=0.6)
                else:
                    heat = ax.imshow(_heat(run[method][i]).numpy(), cmap="inferno", vmin=0, vmax=1)
                if i == 0:
                    ax.set_title(f"{run['variant']}\n{label(method)}", fontsize=8)
                pred = _class(run, "preds", i)
                if k == 0 and pred is not None:
                    ax.text(
                        0.02,
                        0.02,
                        f"pred: {pred}",
                        transform=ax.transAxes,
                        fontsize=6,
                        color="w",
                        bbox={"facecolor": "k", "alpha": 0.5, "pad": 1, "lw": 0},
                    )
        true = _class(runs[0], "labels", i)
        if true is not None:
            axes[i, 0].set_ylabel(f"true: {true}", fontsize=7)
    axes[0, 0].set_title("image", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    if heat is not None:
        bar = fig.colorbar(heat, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01)
        bar.set_label("|attribution|, summed over channels, scaled to each map's maximum", fontsize=7)
        bar.ax.tick_params(labelsize=6)
    if signed is not None:
        bar = fig.colorbar(signed, ax=axes.ravel().tolist(), fraction=0.02, pad=0.04)
        bar.set_label(
            "signed weight (LIME: superpixel) for the explained class, scaled (red: for, blue: against)",
            fontsize=7,
        )
        bar.ax.tick_params(labelsize=6)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)


def _show(ax, image: torch.Tensor, title: str = "") -> None:
    ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy())
    if title:
        ax.set_title(title, fontsize=7)


def _save(fig, output: str | os.PathLike) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    plt.close(fig)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def visualisation_grid(
    runs: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str, *, n_inversions: int = 4
) -> None:
    """Top row: generation seeds (one per class), inversion targets, other-class starts. Then one row per
    model (one file each): its class images from those seeds, inversions from noise and from the other-
    class images. Standard and robust sit one above the other, on the same seeds and targets."""
    plt = _pyplot()
    first = runs[0]
    k = min(n_inversions, len(first["targets"]))
    names = first.get("class_names") or []
    header = [
        (im, f"{names[c] if c < len(names) else f'class {c}'}") for c, im in enumerate(first["gen_seeds"])
    ]
    header += [(im, "target") for im in first["targets"][:k]] + [
        (im, "start") for im in first["other_starts"][:k]
    ]
    cols = len(header)
    fig, axes = plt.subplots(len(runs) + 1, cols, figsize=(1.2 * cols, 1.35 * (len(runs) + 1)), squeeze=False)
    for j, (im, label) in enumerate(header):
        _show(axes[0, j], im, label)
    for i, run in enumerate(runs, start=1):
        row = list(run["generated"]) + list(run["inv_noise"][:k]) + list(run["inv_other"][:k])
        for j, im in enumerate(row):
            _show(axes[i, j], im)
        axes[i, 0].set_ylabel(run["variant"], fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"{title}: class generation from the seeds | inversion of the targets from noise | "
        "from another class's image",
        fontsize=8,
    )
    _save(fig, output)


def feature_grid(runs: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str) -> None:
    """One row per model and representation unit: the image that maximises the unit, then the test
    images that activate it most and least."""
    plt = _pyplot()
    rows = [(run, u) for run in runs for u in range(len(run["units"]))]
    n_top = runs[0]["top"].shape[1]
    cols = 1 + 2 * n_top
    fig, axes = plt.subplots(len(rows), cols, figsize=(1.1 * cols, 1.25 * len(rows)), squeeze=False)
    for i, (run, u) in enumerate(rows):
        _show(axes[i, 0], run["unit_images"][u], "maximised" if i == 0 else "")
        for j in range(n_top):
            _show(axes[i, 1 + j], run["top"][u, j], "most" if i == 0 and j == 0 else "")
            _show(axes[i, 1 + n_top + j], run["bottom"][u, j], "least" if i == 0 and j == 0 else "")
        axes[i, 0].set_ylabel(f"{run['variant']}\nunit {int(run['units'][u])}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"{title}: direct feature visualisation and the most/least activating test images", fontsize=8
    )
    _save(fig, output)


# Axis labels of the swept metrics (others are shown by their record name); accuracies are drawn in %.
SWEEP_LABELS = {
    ("linf", "corr"): "mean Pearson correlation under attack",
    ("linf", "acc_fgsm"): "accuracy under FGSM (%)",
    ("linf", "acc_pgd"): "accuracy under L-inf PGD (%)",
    ("l2", "acc_pgd"): "accuracy under L2 PGD (%)",
}


def _eps_tick(eps: float, norm: str = "linf") -> str:
    """An L-inf eps as k/255 where it is one (image attacks), else (and any L2 eps) its value."""
    if norm != "linf":
        return f"{eps:g}"
    k = eps * 255
    return f"{round(k)}/255" if abs(k - round(k)) < 1e-3 and k >= 0.5 else f"{eps:g}"


def _line(sweep: Sequence[Mapping[str, Any]], norm: str, metric: str) -> list[Mapping[str, Any]]:
    """The sweep rows of one threat norm that carry `metric` (rows without one are L-inf; a regression row's
    `norm` is its perturbation size, not a threat)."""
    return [r for r in sweep if r.get("threat", "linf") == norm and metric in r]


def robustness_curves(
    records: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str, *, log_x: bool = True
) -> None:
    """One panel per swept norm and metric (correlation; or FGSM, L-inf PGD and L2 PGD accuracy) against
    eps: mean ± std over seeds per variant, from the `sweep` rows ({'eps', 'threat': the norm (default
    linf), <metric>: value, ...}) of the evaluation records."""
    import numpy as np

    plt = _pyplot()
    by_variant: dict[str, list[list[dict]]] = {}
    for rec in records:
        if not rec.get("sweep"):
            raise ValueError(f"{_name(rec)}: evaluation record has no 'sweep' rows (expected evaluate.sweep)")
        by_variant.setdefault(rec["variant"], []).append(rec["sweep"])
    first = by_variant[next(iter(by_variant))][0]
    panels = list(
        dict.fromkeys(
            (r.get("threat", "linf"), k) for r in first for k in r if k not in ("eps", "threat", "norm")
        )
    )
    n_classes = records[0].get("n_classes")
    fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 2.8), squeeze=False)
    for ax, (norm, metric) in zip(axes[0], panels, strict=True):
        scale = 100.0 if metric.startswith("acc") else 1.0
        for variant, sweeps in by_variant.items():
            eps = np.array([r["eps"] for r in _line(sweeps[0], norm, metric)])
            values = scale * np.array([[r[metric] for r in _line(sw, norm, metric)] for sw in sweeps])
            mean, std = values.mean(0), values.std(0)
            ax.plot(eps, mean, marker="o", ms=3, label=f"{variant} (n={len(sweeps)})")
            ax.fill_between(eps, mean - std, mean + std, alpha=0.15)
        if log_x:
            ax.set_xscale("log")
        ax.set_xticks(eps, [_eps_tick(e, norm) for e in eps], fontsize=7)
        ax.minorticks_off()
        if scale == 100.0 and n_classes:
            ax.axhline(
                100.0 / n_classes, color="grey", ls="--", lw=1, label=f"chance ({100 / n_classes:.0f}%)"
            )
            ax.set_ylim(0, 100)
        norm_name = "L2" if norm == "l2" else "L-inf"
        ax.set_xlabel(
            f"attack eps ({norm_name}; images in [0, 1])" if scale == 100.0 else f"attack eps ({norm_name})"
        )
        ax.set_ylabel(SWEEP_LABELS.get((norm, metric), metric))
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{title}: mean ± std over seeds", fontsize=9)
    _save(fig, output)


def corruption_heatmap(records: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str) -> None:
    """Accuracy per corruption (rows) and severity (columns), mean over seeds: one panel per variant, from
    the `corruptions` tables of the evaluation records."""
    import numpy as np

    plt = _pyplot()
    tables: dict[str, list[dict[str, list[float]]]] = {}
    for rec in records:
        if not rec.get("corruptions"):
            raise ValueError(
                f"{_name(rec)}: evaluation record has no 'corruptions' table (expected evaluate.corruptions)"
            )
        tables.setdefault(rec["variant"], []).append(rec["corruptions"])
        severities = rec.get("eval_spec", {}).get("corruptions", {}).get("severities")
    names = list(next(iter(tables.values()))[0])
    severities = severities or list(range(1, len(next(iter(tables.values()))[0][names[0]]) + 1))
    means = {
        v: np.mean([[run[n] for n in names] for run in runs], axis=0) * 100 for v, runs in tables.items()
    }
    # the colour range fits the data (every panel on one scale), so cells of 4-11% are not one colour
    low = float(min(m.min() for m in means.values()))
    high = max(float(max(m.max() for m in means.values())), low + 1.0)
    fig, axes = plt.subplots(
        1, len(tables), figsize=(2.2 + 2.0 * len(tables), 0.3 * len(names) + 1.8), squeeze=False, sharey=True
    )
    for ax, (variant, runs) in zip(axes[0], tables.items(), strict=True):
        acc = means[variant]
        im = ax.imshow(acc, cmap="viridis", vmin=low, vmax=high, aspect="auto")
        for (r, c), v in np.ndenumerate(acc):
            dark = v < low + 0.6 * (high - low)
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if dark else "k")
        ax.set_title(f"{variant}\nmean {acc.mean():.1f}% (n={len(runs)})", fontsize=8)
        ax.set_xticks(range(acc.shape[1]), [str(s) for s in severities], fontsize=7)
        ax.set_xlabel("severity", fontsize=8)
    axes[0, 0].set_yticks(range(len(names)), [n.replace("_", " ") for n in names], fontsize=7)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label=f"accuracy (%), range {low:.0f}-{high:.0f}")
    fig.suptitle(f"{title}: accuracy per corruption and severity, mean over seeds", fontsize=9)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight")
    plt.close(fig)


def atlas_figure(
    models, rows: Sequence[Any], robust: Sequence[str], output: str | os.PathLike, title: str
) -> None:
    """The atlas of one dataset: each interpretability score (a panel) against worst-case robust accuracy,
    a point per model, coloured by its adversarial-training eps (grey: imported or other), with Spearman's
    rho and its bootstrap interval in the panel's title. Without scores, one panel says why."""
    import math

    plt = _pyplot()
    n = max(1, len(rows))
    cols = min(4, n)
    fig, axes = plt.subplots(-(-n // cols), cols, figsize=(3.2 * cols, 2.8 * -(-n // cols)), squeeze=False)
    worst = models[list(robust)].min(axis=1).to_numpy(float) if robust else []
    dose = models["dose"].to_numpy(float)
    for ax in axes.flat[n:]:
        ax.axis("off")
    if not rows:
        axes[0, 0].text(0.5, 0.5, "too few models for an atlas", ha="center", va="center")
        axes[0, 0].axis("off")
    for ax, r in zip(axes.flat, rows, strict=False):
        y = models[r.score].to_numpy(float)
        trained = ~np.isnan(dose)
        ax.scatter(worst[~trained], y[~trained], c="0.6", s=18, marker="s", label="imported / other")
        pts = ax.scatter(worst[trained], y[trained], c=dose[trained], cmap="viridis", s=18)
        ci = "" if not math.isfinite(r.rho_low) else f" [{r.rho_low:+.2f}, {r.rho_high:+.2f}]"
        ax.set_title(f"{r.header}\nrho {r.rho:+.2f}{ci}", fontsize=7)
        ax.set_xlabel("worst-case robust accuracy", fontsize=7)
        ax.tick_params(labelsize=6)
    if rows and (~np.isnan(dose)).any():
        fig.colorbar(pts, ax=axes.ravel().tolist(), shrink=0.6, label="training eps")
    fig.suptitle(title, fontsize=9)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png", bbox_inches="tight")
    plt.close(fig)
