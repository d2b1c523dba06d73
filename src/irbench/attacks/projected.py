"""The one projected-gradient loop every attack runs: steepest-ascent steps under L-inf or L2 for any
differentiable loss, each projected to the eps-ball and the valid input range.

Every attack maximises `loss_fn(model(x + delta), y)` subject to ||delta|| <= eps and x + delta within
`bounds`. Classifiers pass cross-entropy, regressors MSE, generators a logit or feature objective.
All attacks are batched: one forward and one backward pass per step for the whole batch. The model's
mode (train/eval) and parameter gradients are left untouched.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from irbench.seeding import draw_device

LossFn = Callable[[Tensor, Tensor], Tensor]
UNBOUNDED = (-float("inf"), float("inf"))  # for inputs with no valid-range box (standardised spectrograms)
NORMS = ("l2", "linf")
KEEP_BEST = (False, True, "example", "batch")  # which iterate pgd returns (see `pgd`)


def _flat_norm(t: Tensor) -> Tensor:
    """Per-sample L2 norm, shaped to broadcast against `t`."""
    return t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (t.dim() - 1)))


def project(delta: Tensor, x: Tensor, *, eps: float, norm: str, bounds: tuple[float, float]) -> Tensor:
    """Project delta into the eps-ball of `norm`, then so that x + delta stays within `bounds`.

    Clipping to the box after the ball only shrinks coordinates towards x, so both constraints hold.
    """
    if norm == "linf":
        delta = delta.clamp(-eps, eps)
    elif norm == "l2":
        delta = delta * (eps / _flat_norm(delta)).clamp(max=1.0)
    else:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    return (x + delta).clamp(*bounds) - x


def _ascent_direction(grad: Tensor, norm: str) -> Tensor:
    """The steepest-ascent unit step for `norm`: sign for L-inf, normalised gradient for L2."""
    if norm == "linf":
        return grad.sign()
    return grad / _flat_norm(grad)


def random_init(x: Tensor, *, eps: float, norm: str, generator: torch.Generator | None = None) -> Tensor:
    """A uniform random point of the eps-ball: uniform cube for L-inf, uniform ball for L2.

    Drawn on the generator's device (training on CUDA: on the GPU) and moved to x's device.
    """
    on = draw_device(generator)
    if norm == "linf":
        u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=on).to(x.device)
        return (2 * u - 1) * eps
    g = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=on).to(x.device)
    d = x[0].numel()
    radius = torch.rand((x.shape[0],), generator=generator, dtype=x.dtype, device=on).to(x.device)
    radius = eps * radius.pow(1.0 / d).view(-1, *([1] * (x.dim() - 1)))
    return g / _flat_norm(g) * radius


def pgd(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn: LossFn,
    *,
    eps: float,
    step: float,
    steps: int,
    norm: str = "l2",
    random_start: bool = True,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
    keep_best: bool | str = False,
) -> Tensor:
    """Projected gradient descent (Madry et al.), the loop every attack here runs: `steps` steepest-ascent
    steps of size `step` on the loss, each projected back to the eps-ball and the valid range, from a
    random point of the ball (or from x with random_start=False). Returns x + delta, detached: the last
    iterate; with `keep_best` true or "example" (a `loss_fn` returning one loss per example) each example's
    iterate of highest loss, as the robustness library's `use_best` (generation); with "batch" the iterate
    of highest mean loss over the batch among those scored before each step, as Boychev's `Attacker`
    (its adversarial training: the clean start is a candidate, the last step's result is not)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}, got {norm!r}")
    if keep_best not in KEEP_BEST:
        raise ValueError(f"keep_best must be one of {KEEP_BEST}, got {keep_best!r}")
    x = x.detach()
    if random_start:
        delta = project(
            random_init(x, eps=eps, norm=norm, generator=generator),
            x,
            eps=eps,
            norm=norm,
            bounds=bounds,
        )
    else:
        delta = torch.zeros_like(x)
    best, best_loss = delta.detach().clone(), None
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = loss_fn(model(x + delta), y)
        (grad,) = torch.autograd.grad(loss.sum(), delta)
        with torch.no_grad():
            if keep_best == "batch":
                best, best_loss = _better_batch(best, best_loss, delta, loss)
            elif keep_best:
                best, best_loss = _better(best, best_loss, delta, loss)
            delta = project(
                delta + step * _ascent_direction(grad, norm), x, eps=eps, norm=norm, bounds=bounds
            )
    if keep_best == "batch":
        return (x + best).detach()
    if keep_best:
        with torch.no_grad():
            best, _ = _better(best, best_loss, delta, loss_fn(model(x + delta), y))
        return (x + best).detach()
    return (x + delta).detach()


def _better_batch(
    best: Tensor, best_loss: Tensor | None, delta: Tensor, loss: Tensor
) -> tuple[Tensor, Tensor]:
    """The whole batch's perturbation of higher mean loss, chosen on the device (no host synchronisation)."""
    mean = loss.detach().float().mean()
    if best_loss is None:
        return delta.detach().clone(), mean
    up = mean > best_loss
    return torch.where(up, delta.detach(), best), torch.where(up, mean, best_loss)


def _better(best: Tensor, best_loss: Tensor | None, delta: Tensor, loss: Tensor) -> tuple[Tensor, Tensor]:
    """Per example, the perturbation of higher loss (`loss` one value per example)."""
    loss = loss.detach()
    if loss.dim() != 1 or len(loss) != len(delta):
        raise ValueError("keep_best needs a loss_fn that returns one loss per example")
    if best_loss is None:
        return delta.detach().clone(), loss
    up = loss > best_loss
    mask = up.view(-1, *[1] * (delta.dim() - 1))
    return torch.where(mask, delta.detach(), best), torch.where(up, loss, best_loss)
