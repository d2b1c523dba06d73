"""Figures: attribution maps, generated images, inversions and unit visualisations of several models side
by side on the same images."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from irbench.io import atomic_path

METHODS = ("ig", "shap", "lime")


def _name(rec: Mapping[str, Any]) -> str:
    """A record's identity, for error messages."""
    return f"{rec.get('study')}/{rec.get('dataset')}/{rec.get('variant')}/seed{rec.get('seed')}"


def _heat(attr: torch.Tensor) -> torch.Tensor:
    """|attribution| summed over channels, scaled to [0, 1] per image."""
    h = attr.abs().sum(0)
    return h / h.max().clamp_min(1e-12)


def attribution_grid(runs: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str) -> None:
    """One row per image: the image, then IG and SHAP (or LIME) maps of each model (one payload each)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = [m for m in METHODS if m in runs[0]]
    n = min(len(r["images"]) for r in runs)
    cols = 1 + len(runs) * len(methods)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.6 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(runs[0]["images"][i].permute(1, 2, 0).clamp(0, 1).numpy())
        for j, run in enumerate(runs):
            for k, method in enumerate(methods):
                ax = axes[i, 1 + j * len(methods) + k]
                if method == "lime":  # signed superpixel weights: red for the class, blue against it
                    m = run[method][i].sum(0)
                    ax.imshow(run["images"][i].permute(1, 2, 0).clamp(0, 1).numpy())
                    scale = m.abs().max().clamp_min(1e-12)
                    ax.imshow((m / scale).numpy(), cmap="bwr", vmin=-1, vmax=1, alpha=0.6)
                else:
                    ax.imshow(_heat(run[method][i]).numpy(), cmap="inferno", vmin=0, vmax=1)
                if i == 0:
                    ax.set_title(f"{run['variant']}\n{method}", fontsize=8)
    axes[0, 0].set_title("image", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)


def _show(ax, image: torch.Tensor, title: str = "") -> None:
    ax.imshow(image.permute(1, 2, 0).clamp(0, 1).numpy())
    if title:
        ax.set_title(title, fontsize=7)


def _save(fig, output: str | os.PathLike) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
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
    header = [(im, f"seed {c}") for c, im in enumerate(first["gen_seeds"])]
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


# Axis labels of the swept metrics (others are shown by their record name).
SWEEP_LABELS = {
    "corr": "mean Pearson correlation under attack",
    "acc_fgsm": "accuracy under FGSM",
    "acc_pgd": "accuracy under PGD",
}


def _eps_tick(eps: float) -> str:
    """An eps as k/255 where it is one (image attacks), else its value."""
    k = eps * 255
    return f"{round(k)}/255" if abs(k - round(k)) < 1e-3 and k >= 0.5 else f"{eps:g}"


def robustness_curves(
    records: Sequence[Mapping[str, Any]], output: str | os.PathLike, title: str, *, log_x: bool = True
) -> None:
    """One panel per swept metric (e.g. correlation, or FGSM and PGD accuracy) against eps: mean ± std over
    seeds per variant, from the `sweep` rows ({'eps', <metric>: value, ...}) of the evaluation records."""
    import numpy as np

    plt = _pyplot()
    by_variant: dict[str, list[list[dict]]] = {}
    for rec in records:
        if not rec.get("sweep"):
            raise ValueError(f"{_name(rec)}: evaluation record has no 'sweep' rows (expected evaluate.sweep)")
        by_variant.setdefault(rec["variant"], []).append(rec["sweep"])
    metrics = [k for k in by_variant[next(iter(by_variant))][0][0] if k not in ("eps", "norm")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for variant, sweeps in by_variant.items():
            eps = np.array([r["eps"] for r in sweeps[0]])
            values = np.array([[r[metric] for r in sw] for sw in sweeps])
            mean, std = values.mean(0), values.std(0)
            ax.plot(eps, mean, marker="o", ms=3, label=f"{variant} (n={len(sweeps)})")
            ax.fill_between(eps, mean - std, mean + std, alpha=0.15)
        if log_x:
            ax.set_xscale("log")
        ax.set_xticks(eps, [_eps_tick(e) for e in eps], fontsize=7)
        ax.minorticks_off()
        ax.set_xlabel("attack eps (L-inf)")
        ax.set_ylabel(SWEEP_LABELS.get(metric, metric))
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
    fig, axes = plt.subplots(
        1, len(tables), figsize=(2.2 + 2.0 * len(tables), 0.3 * len(names) + 1.8), squeeze=False, sharey=True
    )
    for ax, (variant, runs) in zip(axes[0], tables.items(), strict=True):
        acc = np.mean([[run[n] for n in names] for run in runs], axis=0) * 100
        im = ax.imshow(acc, cmap="viridis", vmin=0, vmax=100, aspect="auto")
        for (r, c), v in np.ndenumerate(acc):
            ax.text(c, r, f"{v:.0f}", ha="center", va="center", fontsize=6, color="w" if v < 60 else "k")
        ax.set_title(f"{variant}\nmean {acc.mean():.1f}% (n={len(runs)})", fontsize=8)
        ax.set_xticks(range(acc.shape[1]), [str(s) for s in severities], fontsize=7)
        ax.set_xlabel("severity", fontsize=8)
    axes[0, 0].set_yticks(range(len(names)), [n.replace("_", " ") for n in names], fontsize=7)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="accuracy (%)")
    fig.suptitle(f"{title}: accuracy per corruption and severity, mean over seeds", fontsize=9)
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=80, format="png", bbox_inches="tight")
    plt.close(fig)
