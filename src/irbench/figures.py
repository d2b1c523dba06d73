"""Figures: attribution maps of several models side by side on the same images."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

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


def visualisation_grid(
    data_path: str | os.PathLike,
    model_files: Mapping[str, str | os.PathLike],
    model_specs: Mapping[str, Mapping[str, Any]],
    spec: Mapping[str, Any],
    output: str | os.PathLike,
    *,
    seed: int,
    title: str,
) -> None:
    """Per model: one generated image per class (from the same seeds) and inversions of the same targets
    from noise; rows are models, so standard and robust sit one above the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from irbench.data.tensors import load_split
    from irbench.explain.generation import fit_class_gaussians, generate_class_images, sample_seeds
    from irbench.explain.inversion import invert
    from irbench.training import load_trained

    test = load_split(data_path, "test")
    n_classes = test.meta["n_classes"]
    models = {name: load_trained(path, model_specs[name], n_classes) for name, path in model_files.items()}
    gen = torch.Generator().manual_seed(seed)
    classes = torch.arange(min(n_classes, spec["n_classes_shown"]))
    seeds = sample_seeds(
        fit_class_gaussians(test.x, test.y, n_classes), classes, test.x.shape[-1], generator=gen
    )
    pick = torch.randperm(len(test), generator=gen)[: spec["n_inversions"]]
    targets = test.x[pick]
    noise = torch.rand(targets.shape, generator=gen)
    rows = []
    for name, model in models.items():
        g = generate_class_images(
            model, seeds, classes, eps=spec["gen_eps"], step=spec["gen_step"], steps=spec["gen_steps"]
        )
        inv = invert(
            model, noise, targets, eps=spec["inv_eps"], step=spec["inv_step"], steps=spec["inv_steps"]
        )
        rows.append((name, torch.cat([g, inv])))
    cols = len(classes) + len(targets)
    fig, axes = plt.subplots(len(rows) + 1, cols, figsize=(1.3 * cols, 1.4 * (len(rows) + 1)), squeeze=False)
    header = torch.cat([seeds, targets])
    for j in range(cols):
        axes[0, j].imshow(header[j].permute(1, 2, 0).numpy())
        axes[0, j].set_title(f"class {j}" if j < len(classes) else "target", fontsize=7)
    for i, (name, images) in enumerate(rows, start=1):
        for j in range(cols):
            axes[i, j].imshow(images[j].permute(1, 2, 0).clamp(0, 1).numpy())
        axes[i, 0].set_ylabel(name, fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        f"{title}: seeds/targets (top), class generation and inversion from noise per model", fontsize=8
    )
    fig.tight_layout()
    with atomic_path(output) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)
