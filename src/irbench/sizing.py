"""How long a train or evaluate job runs, estimated from its work: the runtime it asks a cluster for.

Work is counted in passes (a forward and a backward of one input: 3x the forward's FLOPs, which torch's
FlopCounterMode counts on the meta device, so nothing is computed):

- train: training inputs x epochs x (1 + the training attack's steps);
- evaluate: scored inputs x (1 + every gradient step its probes name: each `steps`, `n_iter`,
  `gen_steps`, `inv_steps`, and a sweep's `pgd_steps` once per eps) + AUTOATTACK_PASSES per image of
  AutoAttack's `standard` version (APGD-CE 100, APGD-T and FAB-T 9 x 100 each, Square 5,000 forwards).

Runtime = START_MIN + SAFETY x work / RATE, rounded up to 15 minutes. RATE is a sustained rate assumed
for one current data-centre GPU (150 TFLOP/s; an H100's bf16 peak is about 990): these are estimates, not
measurements, with a safety factor; a job resubmitted after hitting its limit asks for `attempt` times as
much and resumes from its checkpoint.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from typing import Any

RATE = 150e12  # FLOP/s sustained on one GPU (assumed)
SAFETY = 3.0
START_MIN = 10.0  # loading data, building the model, writing results
AUTOATTACK_PASSES = 100 + 900 + 900 + 5000 // 3
UNKNOWN_MIN = 1440  # a dataset kind that gives no size: a day
STEP_KEYS = ("steps", "n_iter", "gen_steps", "inv_steps")


@cache
def _forward_flops(model_key: str, n_outputs: int, shape: tuple[int, ...]) -> float:
    """FLOPs of one input's forward pass, counted on the meta device (nothing is computed)."""
    import json

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from irbench.models import build_model

    with torch.device("meta"):
        model = build_model(json.loads(model_key), n_classes=n_outputs, in_channels=shape[0]).eval()
        x = torch.zeros((1, *shape))  # eval: batch norm takes one input (the FLOPs are the same)
    with FlopCounterMode(display=False) as counter:
        model(x)
    return float(counter.get_total_flops())


def forward_flops(model: Mapping[str, Any], n_outputs: int, shape: tuple[int, ...]) -> float:
    import json

    return _forward_flops(json.dumps(dict(model), sort_keys=True), n_outputs, tuple(shape))


def minutes(passes: float, flops: float, attempt: int = 1) -> int:
    """The runtime to ask for, in minutes: the estimate with its safety factor, times the attempt."""
    estimate = START_MIN + SAFETY * 3.0 * flops * passes / RATE / 60.0
    return int(math.ceil(estimate / 15.0) * 15) * max(1, attempt)


def train_passes(spec: Mapping[str, Any], n_train: int) -> float:
    """Passes of one training job: inputs x epochs x (1 + the training attack's steps); an imported
    checkpoint's checks are a few hundred."""
    if spec.get("checkpoint"):
        return 1000.0
    steps = int((spec.get("attack") or {}).get("steps", 0))
    return float(n_train) * spec["train"]["epochs"] * (1 + steps)


def _steps(node: Any) -> int:
    """The gradient steps a probe's settings name (see the module docstring)."""
    if not isinstance(node, Mapping):
        return 0
    total = sum(int(node[k]) for k in STEP_KEYS if isinstance(node.get(k), int))
    if isinstance(node.get("pgd_steps"), int):
        eps = [e for k in ("eps", "l2_eps") for e in (node.get(k) or [])]
        total += node["pgd_steps"] * max(1, len(eps))
    if node.get("version") == "standard":
        total += AUTOATTACK_PASSES
    return total + sum(_steps(v) for k, v in node.items() if isinstance(v, Mapping))


def evaluate_passes(spec: Mapping[str, Any]) -> float:
    """Passes of one evaluate job: the scored inputs x (1 + the steps its probes name)."""
    return float(spec["n_eval"]) * (1 + _steps(spec))


def model_cost(
    cfg: Mapping[str, Any], study: str, variant: str, dataset: str
) -> tuple[dict, Any, float] | None:
    """(train spec, dataset size, forward FLOPs) of a job, or None where the dataset kind gives no size."""
    from irbench.config import train_spec
    from irbench.datasets import DATASETS

    entry = cfg["datasets"][dataset]
    kind = DATASETS.get(entry["kind"])
    if kind.size is None:
        return None
    spec = train_spec(cfg, study, variant, dataset)
    size = kind.size(entry)
    try:
        flops = forward_flops(spec["model"], size.n_outputs, size.input_shape)
    except Exception:  # noqa: BLE001 - an estimate must never stop a plan: ask for UNKNOWN_MIN instead
        return None
    return spec, size, flops


def train_minutes(cfg: Mapping[str, Any], study: str, variant: str, dataset: str, attempt: int = 1) -> int:
    """The runtime a train job asks for (UNKNOWN_MIN where its dataset kind gives no size)."""
    cost = model_cost(cfg, study, variant, dataset)
    if cost is None:
        return UNKNOWN_MIN * max(1, attempt)
    spec, size, flops = cost
    return minutes(train_passes(spec, size.n_train), flops, attempt)


def evaluate_minutes(cfg: Mapping[str, Any], study: str, variant: str, dataset: str, attempt: int = 1) -> int:
    """The runtime an evaluate job asks for (UNKNOWN_MIN where its dataset kind gives no size)."""
    from irbench.config import eval_spec

    cost = model_cost(cfg, study, variant, dataset)
    if cost is None:
        return UNKNOWN_MIN * max(1, attempt)
    return minutes(evaluate_passes(eval_spec(cfg, study, dataset)), cost[2], attempt)


def campaign(cfg: Mapping[str, Any]) -> str:
    """One line for the plan: the GPU jobs a cluster run asks for and their hours, by job kind."""
    from irbench.config import study_seeds

    train = evaluate = 0.0
    n = 0
    for study in cfg["studies"]:
        seeds = len(study_seeds(cfg, study))
        for dataset in cfg[study]["datasets"]:
            for variant in cfg[study]["variants"]:
                train += seeds * train_minutes(cfg, study, variant, dataset) / 60
                evaluate += seeds * evaluate_minutes(cfg, study, variant, dataset) / 60
                n += seeds
    total = train + evaluate
    return (
        f"irbench: on a cluster this plan asks for {n} train and {n} evaluate GPU jobs, {total:.0f} "
        f"GPU-hours at most (train {train:.0f}, evaluate {evaluate:.0f}; irbench.sizing's estimates x "
        f"{SAFETY:g}, at an assumed {RATE / 1e12:.0f} TFLOP/s)"
    )
