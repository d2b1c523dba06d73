"""RobustBench model-zoo architectures (the `robustbench` package's own definitions): `name`, `threat_model`
and `zoo_dataset` pick an entry of its leaderboard. Weights are never downloaded here: a variant's
`checkpoint.path` is the file in the zoo's folder layout (<model_dir>/<zoo_dataset>/<threat_model>/<name>.pt,
what `python -m irbench.zoo fetch` writes on a machine with internet), read by RobustBench's own loader.
Zoo models take inputs in [0, 1] with any normalisation inside, as irbench's do; their representation is
served by the generic fallback (the input of the last linear layer, no FakeReLU)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from irbench.errors import IrbenchError
from irbench.models import NAME_SCHEMA, Model, register, zoo_name


def zoo() -> Any:
    """robustbench's model_zoo.models module. RobustBench imports AutoAttack under its git package's name
    `autoattack`; pyautoattack (pinned in requirements.txt) is that package under its PyPI name."""
    try:
        import pyautoattack

        sys.modules.setdefault("autoattack", pyautoattack)
        from robustbench.model_zoo import models
    except ImportError as err:
        raise IrbenchError(
            f"model arch 'robustbench' needs the robustbench package ({err}; install requirements-nodeps.txt)"
        ) from err
    return models


def entry(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    """The zoo's entry for `spec` (its model constructor and download ids), or a one-line error."""
    models = zoo()
    from robustbench.model_zoo.enums import BenchmarkDataset, ThreatModel

    name = zoo_name(spec)
    where = f"{spec['zoo_dataset']}/{spec['threat_model']}"
    try:
        entries = models.model_dicts[BenchmarkDataset(spec["zoo_dataset"])][ThreatModel(spec["threat_model"])]
    except (ValueError, KeyError) as err:
        raise IrbenchError(f"model.zoo_dataset/threat_model: RobustBench has no leaderboard {where}") from err
    if name not in entries:
        raise IrbenchError(
            f"model.name: RobustBench's {where} leaderboard has no model {name!r} "
            f"(e.g. {', '.join(sorted(entries)[:5])})"
        )
    return entries[name]


def _build(spec: Mapping[str, Any], *, n_classes: int, in_channels: int = 3) -> nn.Module:
    return entry(spec)["model"]().eval()


def _load(spec: Mapping[str, Any], path: Path, n_classes: int, in_channels: int) -> nn.Module:
    """RobustBench's `load_model` on the local file (which is there: it downloads nothing then)."""
    e = entry(spec)
    import timm
    from robustbench.utils import load_model

    name = spec["name"].lower().replace("-", "_")
    timm_name = f"{name}_{spec['zoo_dataset']}_{spec['threat_model'].lower()}"
    if timm.is_model(timm_name) or isinstance(e["gdrive_id"], list):
        raise IrbenchError(
            f"model.name {spec['name']!r}: RobustBench loads it from timm's hub or as an ensemble of "
            "files, which irbench does not import (expected a single-file zoo entry)"
        )
    expected = Path(spec["zoo_dataset"], spec["threat_model"], f"{spec['name']}.pt")
    if Path(*path.parts[-3:]) != expected:
        raise IrbenchError(
            f"checkpoint.path {path}: expected the zoo's layout <model_dir>/{expected} "
            "(python -m irbench.zoo fetch writes it)"
        )
    return load_model(spec["name"], path.parents[2], spec["zoo_dataset"], spec["threat_model"]).eval()


register(
    Model(
        "robustbench",
        _build,
        "a RobustBench model-zoo entry (its `name`, `threat_model`, `zoo_dataset`); weights from a variant's "
        "`checkpoint`",
        schema={
            "name": NAME_SCHEMA,
            "threat_model": {
                "enum": ["Linf", "L2", "corruptions"],
                "description": "expected Linf, L2 or corruptions (a RobustBench threat model)",
            },
            "zoo_dataset": {
                "enum": ["cifar10", "cifar100", "imagenet"],
                "description": "expected cifar10, cifar100 or imagenet (a RobustBench dataset)",
            },
        },
        load=_load,
    )
)
