"""Sanity checks for attribution methods (Adebayo et al. 2018): does the explanation change when the model
does? The model-parameter randomisation test re-initialises the parameterised layers cascading from the
output down and compares each explanation with the trained model's; the random-logit test compares the
explanation of the predicted class with that of a random other class. Similarity: Spearman's rank
correlation of the absolute maps (summed over channels), per image. A method whose maps barely change (high
correlation) explains the image, not the model. Why two modules of this name: this one holds the tests, for
any map; irbench.probes.sanity runs them on the attributions probe's maps and writes the columns."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor, nn

Explain = Callable[[nn.Module, Tensor], Tensor]  # (model, target) -> attributions (N, C, H, W)


def _ranks(v: Tensor) -> Tensor:
    """Ranks along dim 1 with ties averaged (as scipy.stats.rankdata), float64."""
    order = v.argsort(dim=1, stable=True)
    sorted_v = v.gather(1, order)
    n = v.shape[1]
    pos = torch.arange(n, dtype=torch.float64, device=v.device).expand_as(v)
    # average the positions of equal values: first and last index of each run of ties
    new = torch.ones_like(sorted_v, dtype=torch.bool)
    new[:, 1:] = sorted_v[:, 1:] != sorted_v[:, :-1]
    run_id = new.cumsum(1) - 1
    first = torch.zeros_like(pos).scatter_reduce(1, run_id, pos, "amin", include_self=False)
    last = torch.zeros_like(pos).scatter_reduce(1, run_id, pos, "amax", include_self=False)
    avg = (first.gather(1, run_id) + last.gather(1, run_id)) / 2 + 1
    return torch.empty_like(avg).scatter_(1, order, avg)


def spearman(a: Tensor, b: Tensor) -> Tensor:
    """Per image, Spearman's rank correlation of two attribution maps' absolute values (channels summed);
    NaN where a map is constant."""
    ra, rb = (_ranks(m.abs().sum(1).flatten(1).double()) for m in (a, b))
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    return ((ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1))).float()


def parameter_layers(model: nn.Module) -> list[nn.Module]:
    """The modules that can re-initialise themselves (`reset_parameters`), from the output back to the
    input: Quantus's layer order for the cascading test."""
    return [m for _, m in model.named_modules() if hasattr(m, "reset_parameters")][::-1]


def cascading_randomisation(
    model: nn.Module, explain: Explain, target: Tensor, original: Tensor, n_stages: int, seed: int
) -> list[float]:
    """Mean rank correlation with `original` after re-initialising the top 1/n_stages, 2/n_stages, ..., all
    of the layers (cascading from the output), on a copy of the model. Each layer is re-initialised as
    Quantus's MPRT does it (its `reset_parameters` after `torch.manual_seed(seed + 1)`), so with one stage
    per layer the curve is Quantus's (tests/test_sanity.py)."""
    randomised = copy.deepcopy(model).eval()
    layers = parameter_layers(randomised)
    bounds = [round(len(layers) * (s + 1) / n_stages) for s in range(n_stages)]
    out, done = [], 0
    for bound in bounds:
        for layer in layers[done:bound]:
            torch.manual_seed(seed + 1)
            layer.reset_parameters()
        done = bound
        out.append(torch.nanmean(spearman(original, explain(randomised, target))).item())
    return out


def random_logit(
    explain: Explain, model: nn.Module, target: Tensor, original: Tensor, n_classes: int, seed: int
):
    """Mean rank correlation between the explanation of `target` and of a random other class per image."""
    g = torch.Generator().manual_seed(seed)
    other = (target.cpu() + torch.randint(1, n_classes, target.shape, generator=g)) % n_classes
    return torch.nanmean(spearman(original, explain(model, other.to(target.device)))).item()
