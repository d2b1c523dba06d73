"""BIM (Kurakin et al. 2017): PGD's configuration without a random start (iterated gradient(-sign) steps
from the clean input, projected to the eps-ball); the MER study's regression attack. A missing `step`
defaults to 2.5 * eps / steps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn

from irbench.attacks import Attack, LossFn, register
from irbench.attacks import pgd as pgd_attack


def run(model: nn.Module, x: Tensor, y: Tensor, loss_fn: LossFn, spec: Mapping[str, Any], **kw) -> Tensor:
    return pgd_attack.run(model, x, y, loss_fn, {**spec, "random_start": False}, **kw)


ATTACK = register(Attack("bim", run, "iterated gradient(-sign) steps from the clean input"))
