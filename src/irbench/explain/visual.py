"""The visual battery of one model: class generation scored by FID, representation inversion scored by a
mid-level feature distance, and direct feature visualisation.

Everything random depends on the seed only, so every variant of a seed starts from the same seeds, noise
and targets, and the numbers of two variants compare like for like.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from irbench.data.tensors import to_unit
from irbench.explain.generation import fit_class_gaussians, generate_class_images, sample_seeds
from irbench.explain.inversion import invert, top_activating, visualise_unit
from irbench.metrics.fidelity import fid, kid
from irbench.metrics.inception import extract


def _batched(fn, *tensors: Tensor, batch_size: int, device: torch.device) -> Tensor:
    """fn applied to aligned slices of CPU `tensors` moved to `device`; results concatenated on the CPU."""
    n = len(tensors[0])
    return torch.cat(
        [fn(*(t[i : i + batch_size].to(device) for t in tensors)).cpu() for i in range(0, n, batch_size)]
    )


def other_class_starts(y: Tensor, targets: Tensor, gen: torch.Generator) -> Tensor:
    """For each target index, a seeded choice of a test index whose label differs from the target's."""
    order = torch.randperm(len(y), generator=gen)
    picks = []
    for t in targets.tolist():
        candidates = order[y[order] != y[t]]
        picks.append(candidates[torch.randint(len(candidates), (1,), generator=gen)].item())
    return torch.tensor(picks)


def per_class_choice(labels: Tensor, classes: Tensor, gen: torch.Generator) -> Tensor:
    """Indices into `labels` holding, for each class, as many seeded picks as `classes` lists it (without
    replacement; a class with fewer items gives all it has)."""
    picks = []
    for c, count in zip(*classes.unique(return_counts=True), strict=True):
        members = torch.nonzero(labels == c)[:, 0]
        picks.append(members[torch.randperm(len(members), generator=gen)[: int(count)]])
    return torch.cat(picks)


def feature_distance(extractor: nn.Module, a: Tensor, b: Tensor) -> Tensor:
    """Per-example L2 distance between the extractor's pooled mid-level features of a and b (Inception:
    the 192-d vector the reference's inversion distance uses)."""
    fa, fb = extract(extractor, a)["mid"], extract(extractor, b)["mid"]
    return (fa - fb).flatten(1).norm(dim=1)


def visual_battery(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    n_classes: int,
    spec: Mapping[str, Any],
    extractor: nn.Module,
    *,
    seed: int,
    batch_size: int,
    train_x: Tensor,
    train_y: Tensor,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics (fid, fid_real, kid, inv_dist, inv_dist_noise, inv_dist_other) and the figures' images.

    As Boychev's notebook: FID compares `fid_images_per_class` generated images per class with the whole
    test split, and the floor `fid_real` compares the same test split with as many training images per
    class as were generated (`train_x`, `train_y`: the training split, uint8 or float), so FID and its
    floor are taken at the same N (FID is biased by N).
    """
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    device = next(model.parameters()).device
    classes = torch.arange(n_classes).repeat_interleave(spec["fid_images_per_class"])
    seeds = sample_seeds(fit_class_gaussians(x, y, n_classes), classes, x.shape[-1], generator=gen)
    generated = _batched(
        lambda s, c: generate_class_images(
            model,
            s,
            c,
            eps=spec["gen_eps"],
            step=spec["gen_step"],
            steps=spec["gen_steps"],
            keep_best=spec.get("gen_keep_best", "example"),
        ),
        seeds,
        classes,
        batch_size=batch_size,
        device=device,
    )
    order = torch.randperm(len(x), generator=gen)
    # the floor's training images: their own stream, so the draws below stay those of the seed
    picked = per_class_choice(train_y, classes, torch.Generator().manual_seed(seed))
    train_real = train_x[picked]
    train_real = to_unit(train_real) if train_real.dtype == torch.uint8 else train_real
    pool = {
        k: extract(extractor, v)["pool"].numpy()
        for k, v in (("gen", generated), ("test", x), ("train", train_real))
    }
    metrics = {
        "fid": fid(pool["gen"], pool["test"]),
        "fid_real": fid(pool["train"], pool["test"]),
        "kid": kid(pool["gen"], pool["test"]),
    }

    targets = order[-spec["n_inversions"] :]
    others = other_class_starts(y, targets, gen)
    noise = torch.rand(x[targets].shape, generator=gen)
    keep_best = spec.get("inv_keep_best", True)
    inv = {
        start: _batched(
            lambda s, t: invert(
                model,
                s,
                t,
                eps=spec["inv_eps"],
                step=spec["inv_step"],
                steps=spec["inv_steps"],
                keep_best=keep_best,
            ),
            starts,
            x[targets],
            batch_size=batch_size,
            device=device,
        )
        for start, starts in (("noise", noise), ("other", x[others]))
    }
    dists = {k: feature_distance(extractor, v, x[targets]) for k, v in inv.items()}
    metrics.update(
        inv_dist=torch.cat(list(dists.values())).mean().item(),
        inv_dist_noise=dists["noise"].mean().item(),
        inv_dist_other=dists["other"].mean().item(),
    )

    with torch.no_grad():
        n_units = model.features(x[:1].to(device)).shape[1]
    units = torch.randperm(n_units, generator=gen)[: spec["n_units"]]
    unit_start = torch.rand((len(units), *x.shape[1:]), generator=gen)
    unit_images = torch.cat(
        [
            visualise_unit(
                model,
                unit_start[i : i + 1].to(device),
                int(u),
                eps=spec["inv_eps"],
                step=spec["inv_step"],
                steps=spec.get("unit_steps", spec["inv_steps"]),
                keep_best=keep_best,
            ).cpu()
            for i, u in enumerate(units)
        ]
    )
    most, least = top_activating(model, x, units, k=spec["n_top"], batch_size=batch_size)
    shown = torch.cat(
        [torch.nonzero(classes == c)[:1, 0] for c in range(min(n_classes, spec["n_classes_shown"]))]
    )
    images = {
        "gen_seeds": seeds[shown],
        "generated": generated[shown],
        "targets": x[targets],
        "noise": noise,
        "other_starts": x[others],
        "inv_noise": inv["noise"],
        "inv_other": inv["other"],
        "units": units,
        "unit_images": unit_images,
        "top": x[most],
        "bottom": x[least],
    }
    return metrics, images
