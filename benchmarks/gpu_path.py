"""Benchmark: the GPU path in one run, through irbench's own code: training epoch, attacks, LIME.

1. Epoch time of a CIFAR ResNet-18 (width 64) trained by irbench's loop (`train_variant`) at batch 512 on
   the real CIFAR-10 training batches (bf16 autocast, channels_last, data on the device; the loop keeps no
   per-step host synchronisation). The fastest of the epochs after the first (which includes cuDNN's
   autotuning) counts. Target on an H100/H200: an epoch of 50,000 images in at most 4 s.
2. Images/s of PGD-20 and of AutoAttack (APGD-CE + APGD-T, `custom`) at L-inf 8/255 on that model.
3. LIME explanations/s: irbench's batched `explain_batch` against lime's own `explain_instance` used as its
   documentation does (batch 10), same model, images and samples. Target: at least 10x.

Data: --cifar, a CIFAR-10 python-pickle folder (data_batch_*, test_batch). Fewer than five training
batches are tiled to 50,000 images (said in the output). Without a GPU the same measurements run on the
CPU at the sizes given (--n-train, --images): they are then not the GPU figures and say so.
Usage: .venv/bin/python benchmarks/gpu_path.py --cifar data/cifar10/cifar-10-batches-py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from irbench.data.tensors import save_dataset
from irbench.datasets.cifar import load_cifar
from irbench.evaluation import attacked_predictions
from irbench.models import build_model
from irbench.probes.autoattack import autoattack_correct
from irbench.seeding import pick_device
from irbench.training import train_variant

EPS = 8 / 255


def cifar_dataset(
    root: Path, n_train: int, folder: Path, n_test: int | None = None
) -> tuple[Path, str, dict]:
    """A prepared dataset file of `n_train` real CIFAR-10 training images (tiled if the folder has fewer)
    and the test split (its first `n_test` images where given), a note saying which, and the test split."""
    files = sorted(p.name for p in root.glob("data_batch_*"))
    if not files:
        raise SystemExit(f"{root}: no data_batch_* files (expected the CIFAR-10 python-pickle folder)")
    splits, names = load_cifar(str(root), "cifar10", files)
    x, y = splits["train"]["images"], splits["train"]["labels"]
    note = f"{len(x):,} real images" + (f", tiled to {n_train:,}" if len(x) < n_train else "")
    reps = -(-n_train // len(x))
    splits["train"] = {"images": np.tile(x, (reps, 1, 1, 1))[:n_train], "labels": np.tile(y, reps)[:n_train]}
    if n_test is not None:
        splits["test"] = {k: v[:n_test] for k, v in splits["test"].items()}
    path = folder / "cifar10.pt"
    save_dataset(splits, {"kind": "cifar10", "task": "classification", "n_classes": len(names)}, path)
    return path, note, splits["test"]


def epoch_seconds(data: Path, epochs: int, compile_backend: str | None) -> tuple[float, torch.nn.Module]:
    spec = {
        "model": {"arch": "resnet18", "width": 64},
        "train": {
            "epochs": epochs,
            "batch_size": 512,
            "optimizer": "sgd",
            "lr": 0.05,
            "momentum": 0.9,
            "weight_decay": 5e-4,
            "schedule": "onecycle",
            "augment": ["crop", "flip"],
            "val_fraction": 0,
            "val_size_max": 1,
            **({"compile": compile_backend} if compile_backend else {}),
        },
        "objective": "standard",
        "attack": None,
    }
    result = train_variant(data, spec, seed=0, log=lambda _: None)
    times = [row["epoch_s"] for row in result.history]
    model = build_model(spec["model"], n_classes=10)
    model.load_state_dict(result.state_dict)
    return min(times[1:] or times), model


def timed(fn) -> tuple[float, object]:
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    sync()
    t0 = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - t0, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cifar", type=Path, required=True, help="CIFAR-10 python-pickle folder")
    ap.add_argument("--n-train", type=int, default=50_000, help="images per epoch (default: CIFAR's 50,000)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--images", type=int, default=1000, help="test images attacked")
    ap.add_argument("--lime-images", type=int, default=8)
    ap.add_argument("--samples", type=int, default=1000, help="LIME perturbations per explanation")
    ap.add_argument("--compile", default=None, help="train.compile backend (e.g. inductor)")
    args = ap.parse_args()
    device = pick_device()
    gpu = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if gpu else "CPU (no CUDA: these are not the GPU figures)"
    print(f"device: {name}; torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        data, note, test = cifar_dataset(args.cifar, args.n_train, Path(tmp))
        seconds, model = epoch_seconds(data, args.epochs, args.compile)
    model = model.to(device).eval()
    per_50k = seconds * 50_000 / args.n_train
    verdict = ("OK" if per_50k <= 4 else "MISSED") if gpu else "not measured on a GPU"
    print(
        f"training epoch (irbench train_variant, ResNet-18 width 64, batch 512, bf16 on CUDA, {note}): "
        f"{seconds:.2f} s for {args.n_train:,} images = {per_50k:.2f} s per 50,000 (target <= 4 s) {verdict}"
    )

    x = torch.from_numpy(test["images"][: args.images]).float().div(255).to(device)
    y = torch.from_numpy(test["labels"][: args.images]).long().to(device)
    pgd = {"method": "pgd", "norm": "linf", "eps": EPS, "steps": 20, "step": 2.5 * EPS / 20}
    s_pgd, pred = timed(lambda: attacked_predictions(model, x, y, pgd, batch_size=500))
    print(f"PGD-20 L-inf 8/255: {len(x) / s_pgd:,.0f} images/s (accuracy {(pred == y).float().mean():.3f})")
    aa = {"version": "custom", "attacks": ["apgd-ce", "apgd-t"]}
    s_aa, result = timed(
        lambda: autoattack_correct(
            model, x, y, {"norm": "linf", "eps": EPS}, aa, seed=0, batch_size=500, device=device
        )
    )
    print(
        f"AutoAttack APGD-CE + APGD-T: {len(x) / s_aa:,.0f} images/s "
        f"(accuracy {result.correct.float().mean():.3f})"
    )

    from lime.lime_image import LimeImageExplainer

    from irbench.explain.lime_batch import classifier, explain_batch, segmenter

    imgs = x[: args.lime_images].cpu()
    explain_batch(model, imgs[:1].to(device), num_samples=50, batch_size=500, seed=0)  # warm-up
    s_ours, _ = timed(
        lambda: explain_batch(
            model, imgs.to(device), num_samples=args.samples, batch_size=args.samples, seed=0
        )
    )
    predict = classifier(model, device)

    def lime_default():
        for img in imgs:
            LimeImageExplainer(random_state=0).explain_instance(
                img.permute(1, 2, 0).double().numpy(),
                predict,
                top_labels=1,
                num_samples=args.samples,
                segmentation_fn=segmenter(None, 0),
                random_seed=0,
                batch_size=10,
            )

    s_lime, _ = timed(lime_default)
    speedup = s_lime / s_ours
    mark = ("OK" if speedup >= 10 else "MISSED") if gpu else "not measured on a GPU"
    print(
        f"LIME, {args.samples} samples: irbench {len(imgs) / s_ours:.2f} explanations/s, lime's default "
        f"usage (batch 10) {len(imgs) / s_lime:.2f}/s = {speedup:.1f}x (target >= 10x) {mark}"
    )
    return 0 if not gpu or (per_50k <= 4 and speedup >= 10) else 1


if __name__ == "__main__":
    sys.exit(main())
