"""The model interface the probes rely on, declared: every model maps inputs in [0, 1] to logits (or a
regressor's outputs); the rest are capabilities a model declares (`Model.capabilities`) and a probe
requires (`Probe.requires`). A probe either runs without a capability the model lacks, as it says in
`Probe.without` (the record and the report say so), or refuses the model before any job starts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor, nn

from irbench.errors import IrbenchError

# capability -> what the model offers with it
CAPABILITIES = {
    "representation": "`features(x)`, the penultimate representation, and `fc`, the linear head over it",
    "fake_relu": "`features(x, fake_relu=True)`: its last ReLU passes gradients at zero (FakeReLU)",
    "bottleneck": "`bottleneck(x)`: the units of a concept bottleneck (`head_kind == 'bottleneck'`)",
    "two_outputs": "`forward_both(x)`: the outputs and the bottleneck units in one pass",
    "normalize": "`normalize.set_stats`: input normalisation set from the training split",
}


@dataclass(frozen=True)
class Fallback:
    """A probe served without a capability its model lacks, and how."""

    probe: str
    capability: str
    how: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def check_objective(model_spec: Mapping[str, Any], objective: str | None) -> None:
    """A training objective calls only what the model offers (no fallback: training cannot do without)."""
    from irbench.models import capabilities_of
    from irbench.objectives import OBJECTIVES

    if objective is None:
        return
    missing = [c for c in OBJECTIVES.get(objective).requires if c not in capabilities_of(model_spec)]
    if missing:
        raise IrbenchError(
            f"objective '{objective}' cannot train model '{model_spec['arch']}': it needs {missing[0]} "
            f"({CAPABILITIES[missing[0]]})"
        )


def fallbacks(model_spec: Mapping[str, Any], evaluate: Mapping[str, Any]) -> list[Fallback]:
    """The fallbacks the probes of `evaluate` use for the model `model_spec` names; a probe that needs a
    capability the model lacks and has no fallback for it is an error naming the model and the probe."""
    from irbench.models import capabilities_of
    from irbench.probes import PROBES, configured

    caps = capabilities_of(model_spec)
    out = []
    for key in configured(evaluate):
        probe = PROBES.get(key)
        for cap in probe.requires:
            if cap in caps:
                continue
            if cap not in probe.without:
                raise IrbenchError(
                    f"probe '{key}' cannot serve model '{model_spec['arch']}': it needs {cap} "
                    f"({CAPABILITIES[cap]}) and has no fallback (remove 'evaluate.{key}' or choose another "
                    "model)"
                )
            out.append(Fallback(key, cap, probe.without[cap]))
    return out


class LastLinear(nn.Module):
    """A classifier without a declared representation, served as one: `features(x)` is the input of its
    last linear layer (captured on a forward pass), `fc` that layer. `fake_relu` is accepted and has no
    effect (no FakeReLU: the probes say so)."""

    def __init__(self, net: nn.Module, n_classes: int) -> None:
        super().__init__()
        self.net = net
        heads = [m for m in net.modules() if isinstance(m, nn.Linear)]
        if not heads or heads[-1].out_features != n_classes:
            raise IrbenchError(
                f"{type(net).__name__}: no last linear layer with {n_classes} outputs to take the "
                "representation from (expected a classifier ending in nn.Linear)"
            )
        self._head = (heads[-1],)  # not a submodule: the weights stay under `net` in the state dict

    @property
    def fc(self) -> nn.Linear:
        return self._head[0]

    def features(self, x: Tensor, fake_relu: bool = False) -> Tensor:
        seen: list[Tensor] = []
        hook = self.fc.register_forward_hook(lambda _m, inputs, _out: seen.append(inputs[0]))
        try:
            self.net(x)
        finally:
            hook.remove()
        return seen[-1].flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def served(model: nn.Module, model_spec: Mapping[str, Any], n_classes: int) -> nn.Module:
    """`model` as the probes call it: a classifier without a declared representation gets LastLinear."""
    from irbench.models import capabilities_of

    if n_classes and "representation" not in capabilities_of(model_spec):
        return LastLinear(model, n_classes).eval()
    return model


def check_head(model: nn.Module, x: Tensor) -> float:
    """The largest gap between `fc(features(x))` and the model's logits: the representation fallback is
    only valid where the last linear layer is the model's last operation (near 0)."""
    with torch.no_grad():
        return (model.fc(model.features(x)) - model(x)).abs().max().item()
