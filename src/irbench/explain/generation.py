"""Class-specific image generation (Boychev; Santurkar et al. 2019).

Seeds are drawn from a class-conditional multivariate normal fitted on 8x8-downsampled test images
(covariance + 1e-4 I) and upsampled; L2 PGD then maximises the class logit (paper: eps 30, step 0.5,
60 steps). A robust model turns the seeds into recognisable class images; a standard one barely moves
them. Batched over images; the attack is the shared one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.attacks.projected import pgd

SEED_RESOLUTION = 8


def fit_class_gaussians(x: Tensor, y: Tensor, n_classes: int, ridge: float = 1e-4):
    """Per class: mean and covariance (+ ridge I) of the 8x8-downsampled images, flattened."""
    small = F.interpolate(x, size=(SEED_RESOLUTION, SEED_RESOLUTION), mode="bilinear", antialias=True)
    flat = small.flatten(1).double()
    dists = []
    for c in range(n_classes):
        xc = flat[y == c]
        if len(xc) < 2:
            raise ValueError(f"class {c} has {len(xc)} images; at least 2 are needed to fit a Gaussian")
        cov = torch.cov(xc.T) + ridge * torch.eye(xc.shape[1], dtype=xc.dtype)
        dists.append(torch.distributions.MultivariateNormal(xc.mean(0), covariance_matrix=cov))
    return dists


def sample_seeds(dists, classes: Tensor, image_size: int, channels: int = 3, generator=None) -> Tensor:
    """Seeds for `classes`: one draw from each class Gaussian, upsampled and clipped to [0, 1]."""
    if generator is not None:  # MultivariateNormal has no generator argument: draw via its Cholesky factor
        out = []
        for c in classes.tolist():
            d = dists[c]
            z = torch.randn(d.loc.shape[0], generator=generator, dtype=d.loc.dtype)
            out.append(d.loc + d.scale_tril @ z)
        flat = torch.stack(out)
    else:
        flat = torch.stack([dists[c].sample() for c in classes.tolist()])
    small = flat.float().view(-1, channels, SEED_RESOLUTION, SEED_RESOLUTION)
    return F.interpolate(small, size=(image_size, image_size), mode="bilinear").clamp(0, 1)


def class_logit_loss(logits: Tensor, classes: Tensor) -> Tensor:
    """The sum of each image's target-class logit (maximised by the attack)."""
    return logits.gather(1, classes[:, None]).sum()


def generate_class_images(
    model: nn.Module, seeds: Tensor, classes: Tensor, *, eps: float = 30.0, step: float = 0.5, steps: int = 60
) -> Tensor:
    """L2 PGD from the seeds that maximises the class logit within an eps-ball, images kept in [0, 1]."""
    model.eval()
    return pgd(
        model,
        seeds,
        classes,
        class_logit_loss,
        eps=eps,
        step=step,
        steps=steps,
        norm="l2",
        random_start=False,
    )
