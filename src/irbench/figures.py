"""Figures: attribution maps of several models side by side on the same images."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from irbench.io import atomic_path, load_torch

METHODS = ("ig", "shap")


def _heat(attr: torch.Tensor) -> torch.Tensor:
    """|attribution| summed over channels, scaled to [0, 1] per image."""
    h = attr.abs().sum(0)
    return h / h.max().clamp_min(1e-12)


def attribution_grid(attr_files: Sequence[str | os.PathLike], output: str | os.PathLike, title: str) -> None:
    """One row per image: the image, then IG and SHAP heat maps of each model (one file per model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [load_torch(p) for p in attr_files]
    n = min(len(r["images"]) for r in runs)
    cols = 1 + len(runs) * len(METHODS)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.6 * n), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(runs[0]["images"][i].permute(1, 2, 0).clamp(0, 1).numpy())
        for j, run in enumerate(runs):
            for k, method in enumerate(METHODS):
                ax = axes[i, 1 + j * len(METHODS) + k]
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
