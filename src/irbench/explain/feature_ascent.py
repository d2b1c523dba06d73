"""The one feature-space ascent of the visual battery: L2 steps from a start image, without a random start,
on any objective of a network's output (class generation: a logit through FakeReLU; inversion: the
negative relative distance to a target representation; unit visualisation: one unit's activation)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from irbench.attacks.projected import pgd


def feature_ascent(
    net: nn.Module,
    start: Tensor,
    goal: Tensor,
    objective: Callable[[Tensor, Tensor], Tensor],
    *,
    eps: float,
    step: float,
    steps: int,
    keep_best: bool | str,
) -> Tensor:
    """Images within eps (L2) of `start`, kept in [0, 1], that maximise `objective(net(x), goal)` per
    example: each example's best iterate, the batch's best (`batch`), or the last (false)."""
    return pgd(
        net,
        start,
        goal,
        objective,
        eps=eps,
        step=step,
        steps=steps,
        norm="l2",
        random_start=False,
        keep_best=keep_best,
    )
