"""Representation inversion and direct feature visualisation in the penultimate representation R(x).

Inversion (Boychev; Engstrom et al. 2019): from a start image (noise, or an image of another class), L2
PGD minimises |R(x) - R(t)| / |R(t)| per example towards the target's representation (paper: eps 1000,
step 1, 10,000 steps). Feature visualisation maximises one representation unit from a start image. Both
go through R with its last ReLU a FakeReLU, as the reference does (a unit at zero would otherwise get no
gradient and never move), keep each image's best iterate, and reuse the shared attack, whose ascent we
point at the negative distance or the unit's activation.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from irbench.explain.feature_ascent import feature_ascent


class Representation(nn.Module):
    """R(x): a model's `features` as a module, so attacks can differentiate through it (`fake_relu`: the
    last ReLU passes gradients as the identity)."""

    def __init__(self, model: nn.Module, fake_relu: bool = False) -> None:
        super().__init__()
        self.model = model
        self.fake_relu = fake_relu

    def forward(self, x: Tensor) -> Tensor:
        return self.model.features(x, fake_relu=self.fake_relu)


def relative_distance(rep: Tensor, target: Tensor) -> Tensor:
    """|R(x) - R(t)| / |R(t)| per example."""
    return (rep - target).flatten(1).norm(dim=1) / target.flatten(1).norm(dim=1).clamp_min(1e-12)


def invert(
    model: nn.Module,
    start: Tensor,
    target: Tensor,
    *,
    eps: float = 1000.0,
    step: float = 1.0,
    steps: int = 200,
    keep_best: bool = True,
) -> Tensor:
    """Images near `start` (within eps) whose representation approaches that of the `target` images: each
    image's best iterate, or with keep_best false the last (Boychev's `rep_inversion`)."""
    model.eval()
    rep = Representation(model, fake_relu=True)
    with torch.no_grad():
        goal = rep(target)
    return feature_ascent(
        rep,
        start,
        goal,
        lambda r, g: -relative_distance(r, g),
        eps=eps,
        step=step,
        steps=steps,
        keep_best=keep_best,
    )


def visualise_unit(
    model: nn.Module,
    start: Tensor,
    unit: int,
    *,
    eps: float = 1000.0,
    step: float = 1.0,
    steps: int = 200,
    keep_best: bool = True,
) -> Tensor:
    """Images that maximise representation unit `unit`, starting from `start`: each image's best iterate,
    or with keep_best false the last (Boychev's `feature_vis`)."""
    model.eval()
    rep = Representation(model, fake_relu=True)
    units = torch.full((len(start),), unit, dtype=torch.long, device=start.device)
    return feature_ascent(
        rep,
        start,
        units,
        lambda r, u: r.gather(1, u[:, None])[:, 0],
        eps=eps,
        step=step,
        steps=steps,
        keep_best=keep_best,
    )


@torch.no_grad()
def top_activating(
    model: nn.Module, x: Tensor, units: Tensor, k: int = 8, batch_size: int = 500
) -> tuple[Tensor, Tensor]:
    """Indices into x of the k images that activate each unit most, and the k that activate it least.

    Returns two (len(units), k) tensors, most-activating first / least-activating first. x may live on
    the CPU; batches go to the model's device.
    """
    model.eval()
    device = next(model.parameters()).device
    acts = torch.cat(
        [
            model.features(x[i : i + batch_size].to(device))[:, units.to(device)].cpu()
            for i in range(0, len(x), batch_size)
        ]
    )
    order = acts.T.argsort(dim=1, descending=True)
    return order[:, :k], order[:, -k:].flip(1)
