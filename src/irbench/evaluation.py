"""Evaluation helpers the probes share: batched predictions, attacked predictions and outputs, eps sweeps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from irbench.attacks import ATTACKS, UNBOUNDED, run_attack, step_size


@torch.no_grad()
def predict(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """Predicted classes for `x`, in batches."""
    return torch.cat([model(x[i : i + batch_size]).argmax(1) for i in range(0, len(x), batch_size)])


def logits_of(model: nn.Module, x: Tensor, batch_size: int = 500) -> Tensor:
    """The model's logits for `x`, in batches, without gradients."""
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def attacked_batches(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    loss_fn,
    attack: Mapping[str, Any],
    *,
    batch_size: int,
    bounds: tuple[float, float] = (0.0, 1.0),
    generator: torch.Generator | None = None,
):
    """Yield (clean batch, attacked batch, model output on the attacked batch), batch by batch."""
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        x_adv = run_attack(model, xb, yb, loss_fn, attack, bounds=bounds, generator=generator)
        with torch.no_grad():
            yield xb, x_adv, model(x_adv)


def attacked_predictions(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Predicted classes on inputs attacked with cross-entropy under the `attack` entry."""
    batches = attacked_batches(
        model, x, y, F.cross_entropy, attack, batch_size=batch_size, generator=generator
    )
    return torch.cat([out.argmax(1) for _, _, out in batches])


def attack_correct(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Which inputs stay correctly classified when attacked (cross-entropy ascent) under the `attack`
    entry, model in eval mode: the per-example result the worst-case robust accuracy combines."""
    model.eval()
    return attacked_predictions(model, x, y, attack, batch_size=batch_size, generator=generator) == y


@torch.no_grad()
def regression_outputs(model: nn.Module, x: Tensor, batch_size: int = 64) -> Tensor:
    """A regressor's outputs for `x`, in batches."""
    model.eval()
    return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def attacked_regression(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    *,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Outputs on inputs attacked (MSE ascent) under `attack`, and each perturbation's L2 norm."""
    outs, norms = [], []
    for xb, x_adv, out in attacked_batches(
        model, x, y, F.mse_loss, attack, batch_size=batch_size, bounds=UNBOUNDED, generator=generator
    ):
        norms.append((x_adv - xb).flatten(1).norm(dim=1))
        outs.append(out)
    return torch.cat(outs), torch.cat(norms)


def attacked_regression_metrics(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    *,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
) -> dict[str, float]:
    """Mean Pearson correlation (`corr`), MAE (`mae`) and median perturbation L2 norm (`norm`) of a
    regressor under `attack`; for an attack that reports per-clip details (`Attack.details`, e.g. the
    norm at which each correlation threshold was reached), also `l2_to_<t>`, the median of those norms over
    the clips that reached t, and `reached_<t>`, the share of clips that did."""
    from irbench.metrics.regression import mae, mean_pearson

    model.eval()
    impl = ATTACKS.get(attack["method"])
    if impl.details is None:
        adv, norms = attacked_regression(model, x, y, attack, batch_size=batch_size, generator=generator)
        return {"corr": mean_pearson(adv, y), "mae": mae(adv, y), "norm": norms.median().item()}
    outs, info = [], {}
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        x_adv, details = impl.details(model, xb, yb, F.mse_loss, attack)
        with torch.no_grad():
            outs.append(model(x_adv))
        for k, v in details.items():
            info.setdefault(k, []).append(v.cpu())
    adv, info = torch.cat(outs), {k: torch.cat(v) for k, v in info.items()}
    out = {"corr": mean_pearson(adv, y), "mae": mae(adv, y), "norm": info["norm"].median().item()}
    for key, norms in info.items():
        if key.startswith("norm_to_"):
            t, reached = key[len("norm_to_") :], ~torch.isnan(norms)
            out[f"reached_{t}"] = reached.float().mean().item()
            if reached.any():
                out[f"l2_to_{t}"] = norms[reached].median().item()
    return out


def eps_sweep(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    attack: Mapping[str, Any],
    eps_values: Sequence[float],
    *,
    batch_size: int = 64,
) -> list[dict[str, float]]:
    """Correlation under `attack` at each eps (step scaled with eps), with the median perturbation norm."""
    from irbench.metrics.regression import mean_pearson

    model.eval()
    rows = []
    for eps in eps_values:
        spec = {**attack, "eps": eps, "step": step_size(attack) * eps / attack["eps"]}
        adv, norms = attacked_regression(model, x, y, spec, batch_size=batch_size)
        rows.append({"eps": float(eps), "corr": mean_pearson(adv, y), "norm": norms.median().item()})
    return rows


def first_below(sweep: Sequence[Mapping[str, float]], threshold: float) -> Mapping[str, float] | None:
    """The sweep row of the smallest eps whose correlation is below `threshold` (None: no swept eps)."""
    return next((r for r in sorted(sweep, key=lambda r: r["eps"]) if r["corr"] < threshold), None)


def eps_to_threshold(sweep: Sequence[Mapping[str, float]], thresholds: Sequence[float]) -> dict[str, Any]:
    """For each correlation threshold, the smallest swept eps (and its median perturbation norm) at which
    the correlation falls below it; None where no swept eps gets there."""
    out: dict[str, Any] = {}
    for thr in thresholds:
        hit = first_below(sweep, thr)
        out[f"eps_below_{thr:g}"] = None if hit is None else hit["eps"]
        out[f"norm_below_{thr:g}"] = None if hit is None else hit["norm"]
    return out


def eps_label(eps: float) -> str:
    """An L-inf eps as a column suffix: in 1/255 steps where it is one (8/255 -> '8'), else its value."""
    k = eps * 255
    return f"{round(k)}" if abs(k - round(k)) < 1e-3 else f"{eps:g}"


def accuracy_sweep(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    sweep: Mapping[str, Any],
    *,
    batch_size: int = 500,
    generator: torch.Generator | None = None,
) -> tuple[list[dict[str, float]], dict[str, float], list[tuple[dict[str, Any], str, Tensor]]]:
    """Accuracy under FGSM and L-inf PGD at each eps of `sweep['eps']`, and under L2 PGD at each of
    `sweep['l2_eps']` (if given); PGD step = `pgd_step_factor` * eps / `pgd_steps`. Returns the rows
    ({'eps', 'threat' (the norm), 'acc_fgsm' (L-inf only), 'acc_pgd'}), flat metrics (`acc_fgsm_<eps>`,
    `acc_pgd_<eps>` with eps in 1/255, `acc_pgd_l2_<eps>`) and, per attack run, (its entry, its name, which
    examples it left correct)."""
    model.eval()
    rows, metrics, per_example = [], {}, []
    steps, factor = sweep["pgd_steps"], sweep["pgd_step_factor"]
    grid = [("linf", e) for e in sweep["eps"]] + [("l2", e) for e in sweep.get("l2_eps", [])]
    for norm, eps in grid:
        pgd = {"method": "pgd", "norm": norm, "eps": eps, "steps": steps, "step": factor * eps / steps}
        attacks = {"pgd": {**pgd, "random_start": True}}
        if norm == "linf":
            attacks = {"fgsm": {"method": "fgsm", "norm": "linf", "eps": eps, "steps": 1}, **attacks}
        suffix = eps_label(eps) if norm == "linf" else f"l2_{eps:g}"
        row = {"eps": float(eps), "threat": norm}
        for name, attack in attacks.items():
            correct = attack_correct(model, x, y, attack, batch_size=batch_size, generator=generator)
            row[f"acc_{name}"] = correct.float().mean().item()
            metrics[f"acc_{name}_{suffix}"] = row[f"acc_{name}"]
            per_example.append((attack, f"{name}_{suffix}", correct))
        rows.append(row)
    return rows, metrics, per_example


def corruption_accuracy(
    model: nn.Module, corrupted: Mapping[str, Any], device: torch.device | str, batch_size: int = 500
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Accuracy on each corrupted set ({'images': {'<name>/<severity>': uint8}, 'labels'}): per corruption a
    list over severities (for the heatmap), and `acc_corrupt_mean`, the mean over all of them."""
    model.eval()
    y = corrupted["labels"].to(device)
    table: dict[str, list[float]] = {}
    for key, images in corrupted["images"].items():
        name = key.split("/")[0]
        pred = predict(model, images.to(device).float() / 255, batch_size)
        table.setdefault(name, []).append((pred == y[: len(pred)]).float().mean().item())
    flat = [a for v in table.values() for a in v]
    return table, {"acc_corrupt_mean": sum(flat) / len(flat)}
