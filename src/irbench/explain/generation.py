"""Class-specific image generation (Boychev; Santurkar et al. 2019), as the reference notebook makes it.

Seeds: each image is cut into `grain` x `grain` pixel blocks (4 for 32 px; the same 8 x 8 grid of blocks at
other sizes), a class-conditional multivariate normal is fitted on the block means (covariance with 1/N,
plus 1e-4 I), a draw is clipped to [0, 1] and upsampled by repeating each block mean (nearest). L2 PGD then
maximises the class logit through the model with its last ReLU a FakeReLU (paper: eps 30, step 0.5, 60
steps) and keeps each image's best iterate. A robust model turns the seeds into recognisable class
images; a standard one barely moves them. Batched over images; the attack is the shared one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.explain.feature_ascent import feature_ascent

SEED_GRID = 8  # block means per side (32 px / GRAIN 4 in the reference)


def block_means(x: Tensor, grid: int = SEED_GRID) -> Tensor:
    """(N, C, grid, grid) means of the images' grain x grain pixel blocks (grain = size / grid)."""
    return F.avg_pool2d(x, kernel_size=x.shape[-1] // grid)


def fit_class_gaussians(x: Tensor, y: Tensor, n_classes: int, ridge: float = 1e-4):
    """Per class: mean and covariance (1/N, + ridge I) of the images' block means, flattened."""
    flat = block_means(x).flatten(1).double()
    dists = []
    for c in range(n_classes):
        xc = flat[y == c]
        if len(xc) < 2:
            raise ValueError(f"class {c} has {len(xc)} images; at least 2 are needed to fit a Gaussian")
        centred = xc - xc.mean(0)
        cov = centred.T @ centred / len(xc) + ridge * torch.eye(xc.shape[1], dtype=xc.dtype)
        dists.append(torch.distributions.MultivariateNormal(xc.mean(0), covariance_matrix=cov))
    return dists


def sample_seeds(dists, classes: Tensor, image_size: int, channels: int = 3, generator=None) -> Tensor:
    """Seeds for `classes`: one draw from each class Gaussian, clipped to [0, 1], each block mean repeated
    over its block (nearest upsampling)."""
    if generator is not None:  # MultivariateNormal has no generator argument: draw via its Cholesky factor
        out = []
        for c in classes.tolist():
            d = dists[c]
            z = torch.randn(d.loc.shape[0], generator=generator, dtype=d.loc.dtype)
            out.append(d.loc + d.scale_tril @ z)
        flat = torch.stack(out)
    else:
        flat = torch.stack([dists[c].sample() for c in classes.tolist()])
    small = flat.float().view(-1, channels, SEED_GRID, SEED_GRID).clamp(0, 1)
    return F.interpolate(small, size=(image_size, image_size), mode="nearest")


class FakeReluLogits(nn.Module):
    """The model's logits computed through its representation with the last ReLU a FakeReLU."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor) -> Tensor:
        return self.model.fc(self.model.features(x, fake_relu=True))


def class_logit(logits: Tensor, classes: Tensor) -> Tensor:
    """Each image's target-class logit (maximised by the attack)."""
    return logits.gather(1, classes[:, None])[:, 0]


def generate_class_images(
    model: nn.Module,
    seeds: Tensor,
    classes: Tensor,
    *,
    eps: float = 30.0,
    step: float = 0.5,
    steps: int = 60,
    keep_best: str = "example",
) -> Tensor:
    """L2 PGD from the seeds that maximises the class logit (FakeReLU) within an eps-ball, images kept in
    [0, 1]; each image's best iterate, or with keep_best "batch" the iterate of highest mean logit over the
    batch (Boychev's `class_im_gen`, whose Attacker keeps the batch's best)."""
    model.eval()
    return feature_ascent(
        FakeReluLogits(model),
        seeds,
        classes,
        class_logit,
        eps=eps,
        step=step,
        steps=steps,
        keep_best=keep_best,
    )
