"""One training loop for every study: pluggable objective, per-epoch validation, best checkpoint, resume.

Read top to bottom: seed, load data to the device, hold out a validation set, build model/optimiser/
schedule, then for each epoch shuffle, augment, step the objective, validate, keep the best weights and
write a resumable checkpoint. The best checkpoint maximises what the objective's `score` says: clean
validation accuracy, or the mean of clean and adversarial validation accuracy (Boychev); regressors
maximise the validation correlation.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from irbench.augment import augment
from irbench.data.tensors import Split, channel_stats, has_split, load_split, to_unit
from irbench.errors import IrbenchError
from irbench.evaluation import attacked_predictions, predict
from irbench.io import load_torch, save_torch, write_json
from irbench.machine import describe
from irbench.models import build_model
from irbench.objectives import OBJECTIVES
from irbench.seeding import pick_device, seed_everything

EpochCallback = Callable[[dict[str, float]], None]
VAL_ATTACK_MAX = 500  # validation images attacked per epoch to score adversarial checkpoints


@dataclass
class TrainResult:
    """The best weights, the per-epoch history and what identifies the run."""

    state_dict: dict[str, torch.Tensor]
    history: list[dict[str, float]]
    best_epoch: int
    best_score: float | None  # None: trained without validation (the last epoch is kept)
    info: dict[str, Any] = field(default_factory=dict)

    def save(self, model_path: str | os.PathLike, metrics_path: str | os.PathLike) -> None:
        """Write the weights and the metrics/history JSON, each atomically (metrics last)."""
        save_torch({"state_dict": self.state_dict, "info": self.info}, model_path)
        write_json(
            {
                **self.info,
                "best_epoch": self.best_epoch,
                "best_score": self.best_score,
                "history": self.history,
            },
            metrics_path,
        )


def split_validation(train: Split, fraction: float, size_max: int, generator: torch.Generator):
    """Hold out a seeded random validation subset of the training split."""
    n_val = max(1, min(int(len(train) * fraction), size_max))
    perm = torch.randperm(len(train), generator=generator, device=generator.device).to(train.y.device)
    return train.subset(perm[n_val:]), train.subset(perm[:n_val])


def _optimizer(model: nn.Module, t: Mapping[str, Any]) -> torch.optim.Optimizer:
    if t["optimizer"] == "sgd":
        return torch.optim.SGD(
            model.parameters(), lr=t["lr"], momentum=t["momentum"], weight_decay=t["weight_decay"]
        )
    return torch.optim.Adam(model.parameters(), lr=t["lr"], weight_decay=t["weight_decay"])


def _scheduler(
    opt: torch.optim.Optimizer, t: Mapping[str, Any], steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """The learning-rate schedule; `onecycle` is stepped per batch (PER_BATCH), the others per epoch."""
    if t["schedule"] == "onecycle":
        total = t["epochs"] * steps_per_epoch
        # torch divides by the warm-up's length in steps minus one: give very short runs 1.5 steps of it
        warmup = min(max(t.get("warmup_fraction", 0.25), 1.5 / total), 1 - 0.5 / total)
        return torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=t["lr"],
            total_steps=total,
            pct_start=warmup,
            anneal_strategy="linear",
            cycle_momentum=False,
        )
    if t["schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=t.get("cosine_period") or t["epochs"])
    return torch.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=0)


def rng_state() -> dict[str, Any]:
    """The global CPU and (where present) CUDA generator states, for a checkpoint."""
    return {"torch_rng": torch.get_rng_state(), "cuda_rng": _cuda_rng_get()}


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore what `rng_state` saved; a CUDA state is restored only where CUDA is (a CPU resume of a GPU
    run keeps its CPU stream)."""
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])


def _cuda_rng_get() -> list[torch.Tensor] | None:
    return torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None


def compiled(model: nn.Module, setting: bool | str | None) -> nn.Module:
    """The model the training step calls: `torch.compile`d when `train.compile` asks for it (true:
    inductor, or a backend name). The uncompiled module keeps the weights, so checkpoints and state dicts
    are the same either way."""
    if not setting:
        return model
    backend = "inductor" if setting is True else setting
    known = torch._dynamo.list_backends(exclude_tags=())
    if backend not in known:
        raise IrbenchError(
            f"train.compile: unknown torch.compile backend {backend!r} (expected one of {known})"
        )
    return torch.compile(model, backend=backend)


def validate(model: nn.Module, val: Split, spec: Mapping[str, Any], generator: torch.Generator) -> dict:
    """Classification: clean validation accuracy, plus adversarial accuracy (training attack, on the first
    `train.val_attack_max` images; 0: all) for adversarial variants. Regression (MER): the mean Pearson
    correlation of the emotion outputs."""
    model.eval()
    if val.meta.get("task") == "regression":
        from irbench.metrics.regression import mean_pearson

        n = val.meta["n_emotions"]
        with torch.no_grad():
            outs = [model.forward_both(val.x[i : i + 64]) for i in range(0, len(val), 64)]
        corr = mean_pearson(torch.cat([e for e, _ in outs]), val.y[:, :n])
        if outs[0][1] is None:
            return {"val_corr": corr, "score": corr}
        # a bottleneck model stops early on emotion plus mid-level correlation, as the reference does
        mid = mean_pearson(torch.cat([m for _, m in outs]), val.y[:, n:])
        return {"val_corr": corr, "val_mid_corr": mid, "score": corr + mid}
    out = {"val_acc": (predict(model, val.x) == val.y).float().mean().item()}
    if OBJECTIVES.get(spec["objective"]).score == "clean_and_adversarial":
        cap = spec["train"].get("val_attack_max", VAL_ATTACK_MAX) or len(val)
        sub = val.subset(torch.arange(min(len(val), cap), device=val.y.device))
        adv = attacked_predictions(model, sub.x, sub.y, spec["attack"], generator=generator)
        out["val_adv_acc"] = (adv == sub.y).float().mean().item()
        out["score"] = (out["val_acc"] + out["val_adv_acc"]) / 2
    else:
        out["score"] = out["val_acc"]
    return out


@dataclass
class Trainer:
    """One variant's training set up: data, model, optimiser, schedule, objective and the job's generator."""

    spec: Mapping[str, Any]
    device: torch.device
    generator: torch.Generator
    train: Split
    val: Split | None
    model: nn.Module
    step_model: nn.Module  # what the step calls: the model, or it compiled
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    objective: Any  # the objective's Step
    uses_region_mask: bool

    @property
    def t(self) -> Mapping[str, Any]:
        return self.spec["train"]


@dataclass
class Progress:
    """Where a run stands: the epochs' rows, the best epoch so far, the next epoch, earlier runs' seconds."""

    history: list[dict[str, float]] = field(default_factory=list)
    best: dict[str, Any] = field(default_factory=lambda: {"score": -1.0, "epoch": -1, "state": None})
    start_epoch: int = 0
    before: float = 0.0  # training seconds of earlier, killed runs


def _splits(
    data_path: str | os.PathLike,
    t: Mapping[str, Any],
    dev: torch.device,
    gen: torch.Generator,
    region_mask: torch.Tensor | None,
) -> tuple[Split, Split | None]:
    """The training images (uint8 on the device; batches become float) and the validation split that
    selects the best epoch: the dataset's own, the test split (`select_on: test`), a held-out fraction,
    or none (the last epoch is kept)."""
    full = load_split(data_path, "train", dev, raw=True)
    if region_mask is not None:
        full.extras["region_mask"] = region_mask.to(dev, torch.uint8)[:, None]
    if has_split(data_path, "val"):  # a dataset with its own validation split (MER: 80/10/10)
        train, val = full, load_split(data_path, "val", dev)
        val = val.subset(torch.arange(min(len(val), t["val_size_max"]), device=dev))  # its first items
    elif t.get("select_on") == "test":  # the reference's selection: train on all, pick on the test split
        train, val = full, load_split(data_path, "test", dev)
    elif t["val_fraction"] > 0:
        train, val = split_validation(full, t["val_fraction"], t["val_size_max"], gen)
    else:  # every training image trains; the last epoch is kept
        if t.get("patience"):
            raise IrbenchError("train.patience needs a validation split: set train.val_fraction above 0")
        train, val = full, None
    if val is not None:
        val = Split(to_unit(val.x), val.y, val.extras, val.meta)
    return train, val


def _trainer(
    data_path: str | os.PathLike,
    spec: Mapping[str, Any],
    seed: int,
    device: str,
    init_state: Mapping[str, torch.Tensor] | None,
    region_mask: torch.Tensor | None,
) -> Trainer:
    """Seed, load the data, hold out validation, build the model, optimiser, schedule and objective."""
    t = spec["train"]
    dev = pick_device(device)
    if dev.type == "cuda":  # cuDNN picks its fastest kernels unless the run asks for determinism
        torch.backends.cudnn.benchmark = not t.get("deterministic", False)
        torch.backends.cudnn.deterministic = bool(t.get("deterministic", False))
    gen = seed_everything(seed, dev)  # on CUDA, the per-batch draws are made on the GPU
    train, val = _splits(data_path, t, dev, gen, region_mask)
    model = build_model(
        spec["model"], n_classes=train.meta.get("n_classes", 0), in_channels=train.x.shape[1]
    ).to(dev)
    if init_state is not None:
        model.load_state_dict(init_state)
    elif hasattr(model, "normalize"):
        model.normalize.set_stats(*channel_stats(train.x))
    # channels_last on every device: cuDNN's fast path on a GPU, and faster convolutions of the narrow
    # quick-scale networks on a CPU (one core, training step: ResNet-10 at width 8 1.44x, the eighth-width
    # MER CNN 1.3x); bf16 autocast on CUDA only
    model = model.to(memory_format=torch.channels_last)
    opt = _optimizer(model, t)
    per_epoch = len(train) // t["batch_size"] if t.get("drop_last") else -(-len(train) // t["batch_size"])
    kind = OBJECTIVES.get(spec["objective"])
    return Trainer(
        spec=spec,
        device=dev,
        generator=gen,
        train=train,
        val=val,
        model=model,
        step_model=compiled(model, t.get("compile")),
        opt=opt,
        sched=_scheduler(opt, t, max(1, per_epoch)),
        objective=kind.build(spec, gen),
        uses_region_mask=kind.uses_region_mask,
    )


def _resume(run: Trainer, ckpt: Path | None, identity: Mapping[str, Any], seed: int, log) -> Progress:
    """The progress of a killed run of this same spec and seed (weights, optimiser, schedule and random
    streams restored), or a fresh start."""
    if ckpt is None or not ckpt.is_file():
        return Progress()
    state = load_torch(ckpt)
    if state.get("identity") != identity:
        log(f"ignoring {ckpt}: it belongs to another configuration or seed")
        return Progress()
    run.model.load_state_dict(state["model"])
    run.opt.load_state_dict(state["optimizer"])
    run.sched.load_state_dict(state["scheduler"])
    gen = run.generator
    if state.get("generator_device", "cpu") == str(gen.device):
        gen.set_state(state["generator"])
    else:  # a run resumed on another kind of device: its random stream cannot continue exactly
        gen.manual_seed(seed * 1_000_003 + state["epoch"] + 1)
        log(
            f"resuming on {gen.device} a run begun on {state.get('generator_device', 'cpu')}: the "
            "random stream restarts from the seed and epoch (numbers differ from an unbroken run)"
        )
    set_rng_state(state)
    progress = Progress(
        state["history"], state["best"], state["epoch"] + 1, float(state.get("elapsed_s", 0.0))
    )
    log(f"resuming from {ckpt} after epoch {state['epoch'] + 1} ({progress.before:.1f} s of training kept)")
    return progress


def _train_epoch(run: Trainer, epoch: int) -> dict[str, float]:
    """One pass over the shuffled training images: the objective's step (and its second step) per batch.
    Sums stay on the device (one host synchronisation at the end); a non-finite loss stops the run."""
    t, dev, gen, train = run.t, run.device, run.generator, run.train
    regression = train.meta.get("task") == "regression"
    per_batch = t["schedule"] == "onecycle"
    run.model.train()
    perm = torch.randperm(len(train), generator=gen, device=gen.device).to(dev)
    loss_sum, correct = torch.zeros((), device=dev), torch.zeros((), device=dev)
    bad_step, bad_loss = torch.full((), -1, device=dev), torch.zeros((), device=dev)  # first non-finite
    seen, lrs = 0, []
    # drop_last (the MER reference's loaders): a last, smaller batch is left out of the epoch
    usable = len(train) - (len(train) % t["batch_size"] if t.get("drop_last") else 0)
    for i in range(0, usable, t["batch_size"]):
        idx = perm[i : i + t["batch_size"]]
        yb = train.y[idx]
        kwargs = {}
        if run.uses_region_mask:  # the mask moves with its image
            mask = train.extras["region_mask"][idx].to(train.x.dtype)
            both = augment(torch.cat([train.x[idx], mask], 1), t["augment"], gen)
            xb, kwargs["mask"] = to_unit(both[:, :-1]), both[:, -1:].bool()
        else:
            xb = to_unit(augment(train.x[idx], t["augment"], gen))
        if dev.type == "cuda" and xb.dim() == 4:  # the model's memory format: no conversion per layer
            xb = xb.contiguous(memory_format=torch.channels_last)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            loss, out = run.objective(run.step_model, xb, yb, epoch, **kwargs)
        first_bad = (bad_step < 0) & ~torch.isfinite(loss.detach())
        bad_step = torch.where(first_bad, i // t["batch_size"] + 1, bad_step)
        bad_loss = torch.where(first_bad, loss.detach().float(), bad_loss)
        run.opt.zero_grad(set_to_none=True)
        loss.backward()
        if t.get("clip_grad_value"):  # Boychev's trainers clip each gradient value to +-0.1
            nn.utils.clip_grad_value_(run.model.parameters(), t["clip_grad_value"])
        lrs.append(run.opt.param_groups[0]["lr"])
        run.opt.step()
        second = run.objective.second_step  # e.g. MER's adversarial step every 5th epoch
        extra = second(run.step_model, xb, yb, epoch) if second is not None else None
        if extra is not None:
            run.opt.zero_grad(set_to_none=True)
            extra.backward()
            run.opt.step()
        if per_batch:
            run.sched.step()
        loss_sum += loss.detach().float() * len(idx)
        if not regression:
            correct += (out.detach().argmax(1) == yb).sum()
        seen += len(idx)
    if bad_step.item() >= 0:  # checked once per epoch; the epoch's checkpoint is not written
        raise IrbenchError(
            f"training diverged: loss is {bad_loss.item()} at epoch {epoch + 1}, step "
            f"{bad_step.item()} (lower train.lr or check the data)"
        )
    if not per_batch:
        run.sched.step()
    row = {"epoch": epoch + 1, "train_loss": loss_sum.item() / seen}
    if not regression:
        row["train_acc"] = correct.item() / seen
    row["lr"] = sum(lrs) / len(lrs)  # the mean rate this epoch's batches trained with
    return row


def _select(run: Trainer, progress: Progress, row: dict[str, float]) -> None:
    """Keep this epoch's weights if its validation score is the best so far (without validation: the
    latest epoch)."""
    if run.val is None or row["score"] > progress.best["score"]:
        score = row["score"] if run.val is not None else None
        state = copy.deepcopy(run.model.state_dict())
        progress.best = {"score": score, "epoch": row["epoch"], "state": state}


def _save_checkpoint(
    run: Trainer, ckpt: Path, identity: Mapping[str, Any], epoch: int, progress: Progress, started: float
) -> None:
    """Everything a killed run needs to continue after `epoch` exactly (written atomically)."""
    save_torch(
        {
            "identity": identity,
            "epoch": epoch,
            "model": run.model.state_dict(),
            "optimizer": run.opt.state_dict(),
            "scheduler": run.sched.state_dict(),
            "generator": run.generator.get_state(),
            "generator_device": str(run.generator.device),
            **rng_state(),
            "history": progress.history,
            "best": progress.best,
            "elapsed_s": progress.before + time.perf_counter() - started,
        },
        ckpt,
    )


def train_variant(
    data_path: str | os.PathLike,
    spec: Mapping[str, Any],
    *,
    seed: int,
    checkpoint_path: str | os.PathLike | None = None,
    device: str = "auto",
    on_epoch: EpochCallback | None = None,
    log: Callable[[str], None] = print,
    init_state: Mapping[str, torch.Tensor] | None = None,
    region_mask: torch.Tensor | None = None,
) -> TrainResult:
    """Train the variant `spec` ({model, train, objective, attack}) for one seed on a prepared dataset.

    With `checkpoint_path`, a checkpoint is written after every epoch and a matching one (same spec and
    seed) is resumed from, so a job killed mid-way continues from its last finished epoch. `init_state`
    starts from given weights (refinement); `region_mask` (N, H, W) bool, one per training image, is
    augmented with its image and handed to objectives that take a `mask` (flagged regions).
    """
    run = _trainer(data_path, spec, seed, device, init_state, region_mask)
    t, identity = run.t, {"spec": dict(spec), "seed": seed}
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    started = time.perf_counter()
    progress = _resume(run, ckpt, identity, seed, log)

    for epoch in range(progress.start_epoch, t["epochs"]):
        if t.get("patience") and progress.history and epoch - progress.best["epoch"] >= t["patience"]:
            log(f"early stop: no better validation score for {t['patience']} epochs")
            break
        t0 = time.perf_counter()
        row = _train_epoch(run, epoch)
        if run.val is not None:
            lr = row.pop("lr")
            row.update(validate(run.model, run.val, spec, run.generator))
            row["lr"] = lr
        row["epoch_s"] = time.perf_counter() - t0
        progress.history.append(row)
        _select(run, progress, row)
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if on_epoch is not None:
            on_epoch(row)
        if ckpt is not None:
            _save_checkpoint(run, ckpt, identity, epoch, progress, started)

    info = {
        "seed": seed,
        "device": str(run.device),
        "machine": describe(run.device),  # numbers are bit-identical on one machine, not across machines
        "n_train": len(run.train),
        "n_val": len(run.val) if run.val is not None else 0,
        "epochs": t["epochs"],
        "resumed_s": round(progress.before, 2),  # seconds the runs before the last resume had spent
    }
    best = progress.best
    return TrainResult(best["state"], progress.history, best["epoch"], best["score"], info)


def load_trained(model_path: str | os.PathLike, model_spec: Mapping[str, Any], n_classes: int) -> nn.Module:
    """Rebuild a model from a file TrainResult.save wrote, as the probes call it (a classifier without a
    declared representation served by irbench.models.interface.LastLinear)."""
    from irbench.models.interface import served

    payload = load_torch(model_path)
    model = build_model(model_spec, n_classes=n_classes)
    model.load_state_dict(payload["state_dict"])
    model = model.to(memory_format=torch.channels_last).eval()  # as it trained (train_variant)
    return served(model, model_spec, n_classes)
