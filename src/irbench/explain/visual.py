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
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics (fid, fid_real, kid, inv_dist, inv_dist_noise, inv_dist_other) and the figures' images.

    FID compares `fid_images_per_class` generated images per class with as many real test images; the
    real-vs-real FID (two disjoint real sets of the same size) is the floor it should be read against.
    """
    gen = torch.Generator().manual_seed(seed)
    model.eval()
    device = next(model.parameters()).device
    classes = torch.arange(n_classes).repeat_interleave(spec["fid_images_per_class"])
    seeds = sample_seeds(fit_class_gaussians(x, y, n_classes), classes, x.shape[-1], generator=gen)
    generated = _batched(
        lambda s, c: generate_class_images(
            model, s, c, eps=spec["gen_eps"], step=spec["gen_step"], steps=spec["gen_steps"]
        ),
        seeds,
        classes,
        batch_size=batch_size,
        device=device,
    )
    n_real = min(len(generated), len(x) // 2)
    order = torch.randperm(len(x), generator=gen)
    real_a, real_b = x[order[:n_real]], x[order[n_real : 2 * n_real]]
    pool = {
        k: extract(extractor, v)["pool"].numpy()
        for k, v in (("gen", generated), ("a", real_a), ("b", real_b))
    }
    metrics = {
        "fid": fid(pool["gen"], pool["a"]),
        "fid_real": fid(pool["a"], pool["b"]),
        "kid": kid(pool["gen"], pool["a"]),
    }

    targets = order[-spec["n_inversions"] :]
    others = other_class_starts(y, targets, gen)
    noise = torch.rand(x[targets].shape, generator=gen)
    inv = {
        start: _batched(
            lambda s, t: invert(
                model, s, t, eps=spec["inv_eps"], step=spec["inv_step"], steps=spec["inv_steps"]
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
                steps=spec["inv_steps"],
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
