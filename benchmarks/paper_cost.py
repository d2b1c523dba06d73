"""Benchmark: what a paper run costs, measured through irbench's own code, beside each step's FLOP floor.

In one run, on the paper scale's own recipes (params.yaml resolved at `scale: paper`):

1. a training epoch of the CIFAR ResNet-18 at the recipe's batch (128): standard, and L2-PGD-20 adversarial
   (target on an H100/H200: within 3x of its FLOP floor); and a standard epoch at batch 512 (target: at
   most 4 s per 50,000 images);
2. a training epoch of the Small ImageNet ResNet-50 at 128 px (random images: the cost does not depend on
   the pixels);
3. AutoAttack `standard` (APGD-CE, APGD-T, FAB-T, Square) images/s on the robust CIFAR model at L2 0.5;
4. one whole evaluate job of that robust model with every probe of the paper scale, its image counts and
   steps divided by --shrink (the FID network: a seeded random one, no weights file needed);
5. a MER training epoch of aA2E with its reference training attack in every batch (synthetic clips of
   the real length).

Each step prints its seconds, its passes (one input's forward and backward), its FLOP floor (3 x forward
FLOPs x passes at the device's dense bf16 peak) and the ratio of the two. Then the paper campaign
(vision on CIFAR-10 and Small ImageNet 150, MER on Soundtracks, LIME on CIFAR-10): per job kind, the
FLOP floor in GPU-hours, the projection from the measured ratios, and what irbench.sizing asks a cluster
for. Without a GPU the same code runs at the sizes given and every figure says it is not a GPU figure.

Usage: .venv/bin/python benchmarks/paper_cost.py --cifar data/cifar10/cifar-10-batches-py
(the defaults are sized for one H100/H200 in under 8 minutes; tests/test_benchmarks.py runs it on the CPU
at a few images, clips and steps)
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))

from gpu_path import cifar_dataset, timed  # noqa: E402

from irbench import sizing  # noqa: E402
from irbench.config import eval_spec, load_yaml, resolve, study_seeds, train_spec  # noqa: E402
from irbench.data.tensors import save_dataset  # noqa: E402
from irbench.datasets import prepare_dataset  # noqa: E402
from irbench.jobs.evaluate import evaluate_job  # noqa: E402
from irbench.probes.autoattack import autoattack_correct  # noqa: E402
from irbench.records import RunKey  # noqa: E402
from irbench.seeding import pick_device  # noqa: E402
from irbench.training import train_variant  # noqa: E402

# dense bf16 peaks (FLOP/s) of the GPUs a lent device may be; another GPU uses sizing's assumed rate
PEAKS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12}
CAMPAIGN = {"vision": ["cifar10", "small_imagenet150"], "mer": ["soundtracks"], "lime": ["cifar10"]}


@dataclass(frozen=True)
class Step:
    """One measured step: its seconds, the passes it made and the forward FLOPs of its model."""

    name: str
    seconds: float
    passes: float
    flops: float

    def floor(self, peak: float) -> float:
        return 3.0 * self.flops * self.passes / peak


def paper_config() -> dict:
    """params.yaml at `scale: paper` with the campaign's real datasets in each study."""
    user = {"scale": "paper", **{s: {"datasets": d} for s, d in CAMPAIGN.items()}}
    return resolve(load_yaml(ROOT / "params.yaml"), user=user)


def device_peak(device: torch.device) -> tuple[float, str]:
    """The device's dense bf16 peak and where the figure comes from."""
    if device.type != "cuda":
        return sizing.RATE, f"sizing's assumed {sizing.RATE / 1e12:.0f} TFLOP/s (CPU: not a GPU figure)"
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAKS.items():
        if key in name:
            return peak, f"{name}, dense bf16 peak {peak / 1e12:.0f} TFLOP/s"
    return sizing.RATE, f"{name} (peak unknown: sizing's assumed {sizing.RATE / 1e12:.0f} TFLOP/s)"


def epoch(
    data: Path, spec: dict, n: int, shape: tuple[int, ...], n_out: int, name: str
) -> tuple[Step, object]:
    """The fastest epoch after the first (cuDNN autotunes in the first) of `spec` trained on `data`."""
    spec = copy.deepcopy(spec)
    spec["train"].update(epochs=2, val_fraction=0, select_on="validation")
    spec["train"].pop("patience", None)
    result = train_variant(data, spec, seed=0, log=lambda _: None)
    seconds = min(row["epoch_s"] for row in result.history[1:])
    steps = int((spec.get("attack") or {}).get("steps", 0))
    per = 1 + steps + (1 if spec["objective"] == "mer" and spec.get("attack") else 0)  # MER: a second step
    return Step(name, seconds, n * per, sizing.forward_flops(spec["model"], n_out, shape)), result


def imagenet_like(n: int, folder: Path) -> Path:
    """A prepared file of `n` random 128-px images in 150 classes (the cost does not depend on pixels)."""
    rng = np.random.default_rng(0)
    split = {
        "images": rng.integers(0, 256, (n, 3, 128, 128), dtype=np.uint8),
        "labels": rng.integers(0, 150, n),
    }
    path = folder / "imagenet_like.pt"
    meta = {"kind": "imagenet_subset", "task": "classification", "n_classes": 150}
    save_dataset({"train": split, "test": split}, meta, path)
    return path


def shrunk(spec: dict, factor: int) -> dict:
    """An evaluate section with its image counts and steps divided by `factor` (at least 1 each)."""
    counts = (
        "n_eval",
        "n_images",
        "fid_images_per_class",
        "n_inversions",
        "inv_steps",
        "unit_steps",
        "n_baselines",
    )
    out = copy.deepcopy(spec)

    def walk(node: dict) -> None:
        for k, v in node.items():
            if isinstance(v, dict):
                walk(v)
            elif k in counts and isinstance(v, int):
                node[k] = max(2 if k == "fid_images_per_class" else 1, v // factor)

    walk(out)
    out["visualise"]["extractor"] = {"kind": "random", "seed": 0}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cifar", type=Path, required=True, help="CIFAR-10 python-pickle folder")
    ap.add_argument("--n-train", type=int, default=20_000, help="CIFAR images per epoch")
    ap.add_argument("--n-robust", type=int, default=5_000, help="CIFAR images per adversarial epoch")
    ap.add_argument("--n-imagenet", type=int, default=4_000, help="128-px images per ResNet-50 epoch")
    ap.add_argument("--aa-images", type=int, default=200, help="images AutoAttack standard attacks")
    ap.add_argument("--shrink", type=int, default=20, help="the evaluate job's counts and steps / this")
    ap.add_argument("--n-test", type=int, default=10_000, help="CIFAR test images the evaluate job reads")
    ap.add_argument("--mer-clips", type=int, default=360, help="synthetic MER clips (as Soundtracks)")
    ap.add_argument("--mer-frames", type=int, default=313, help="frames per clip (Soundtracks: 313)")
    args = ap.parse_args()
    t_start = time.perf_counter()
    device = pick_device()
    gpu = device.type == "cuda"
    peak, peak_note = device_peak(device)
    mark = "" if gpu else " [not a GPU figure]"
    print(f"device: {peak_note}; torch {torch.__version__}")
    cfg = paper_config()
    steps: dict[str, Step] = {}
    cifar = (3, 32, 32)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, note, _ = cifar_dataset(args.cifar, args.n_train, tmp, args.n_test)
        print(f"CIFAR-10: {note}")
        std = train_spec(cfg, "vision", "standard", "cifar10")
        steps["standard"], _ = epoch(
            data, std, args.n_train, cifar, 10, "CIFAR ResNet-18 epoch, standard, batch 128"
        )
        wide = copy.deepcopy(std)
        wide["train"]["batch_size"] = 512
        steps["batch512"], _ = epoch(
            data, wide, args.n_train, cifar, 10, "CIFAR ResNet-18 epoch, standard, batch 512"
        )
        (tmp / "robust").mkdir()
        robust_data, _, _ = cifar_dataset(args.cifar, args.n_robust, tmp / "robust", args.n_test)
        rob = train_spec(cfg, "vision", "l2_robust", "cifar10")
        steps["robust"], trained = epoch(
            robust_data, rob, args.n_robust, cifar, 10, "CIFAR ResNet-18 epoch, L2-PGD-20, batch 128"
        )
        model_path, metrics_path = tmp / "robust.pt", tmp / "robust.json"
        trained.save(model_path, metrics_path)

        inet = imagenet_like(args.n_imagenet, tmp)
        r50 = train_spec(cfg, "vision", "standard", "small_imagenet150")
        steps["resnet50"], _ = epoch(
            inet, r50, args.n_imagenet, (3, 128, 128), 150, "ResNet-50 128 px epoch, standard, batch 200"
        )

        from irbench.training import load_trained

        model = load_trained(model_path, rob["model"], 10).to(device)
        test = torch.load(robust_data, weights_only=False)["test"]
        x = torch.as_tensor(test["images"][: args.aa_images]).float().div(255).to(device)
        y = torch.as_tensor(test["labels"][: args.aa_images]).long().to(device)
        s_aa, result = timed(
            lambda: autoattack_correct(
                model,
                x,
                y,
                {"norm": "l2", "eps": 0.5},
                {"version": "standard"},
                seed=0,
                batch_size=500,
                device=device,
            )
        )
        flops18 = sizing.forward_flops(rob["model"], 10, (3, 32, 32))
        steps["autoattack"] = Step(
            "AutoAttack standard, L2 0.5", s_aa, len(x) * sizing.AUTOATTACK_PASSES, flops18
        )
        print(
            f"AutoAttack standard: {len(x) / s_aa:,.1f} images/s, "
            f"robust accuracy {result.correct.float().mean():.3f}{mark}"
        )

        ev = shrunk(eval_spec(cfg, "vision", "cifar10"), args.shrink)
        key = RunKey("vision", "cifar10", "l2_robust", 0, "benchmark")
        t0 = time.perf_counter()
        evaluate_job(
            data=str(robust_data),
            model=str(model_path),
            output=str(tmp / "eval.json"),
            artifacts_output=str(tmp / "eval.pt"),
            key=key,
            model_spec=rob["model"],
            spec=ev,
            mlflow_settings={"enabled": False},
            log=lambda _: None,
        )
        steps["evaluate"] = Step(
            f"evaluate job, robust CIFAR, paper probes / {args.shrink}",
            time.perf_counter() - t0,
            sizing.evaluate_passes(ev),
            flops18,
        )

        mer_path = tmp / "mer.pt"
        mer_entry = {
            **cfg["datasets"]["synthetic_mer"],
            "n_clips": args.mer_clips,
            "n_frames": args.mer_frames,
        }
        prepare_dataset(mer_entry, mer_path)
        mer = train_spec(cfg, "mer", "aA2E", "synthetic_mer")
        mer["adv_every"] = 1  # the attack in every batch: an epoch of what every 5th epoch costs
        n_mer = int(torch.load(mer_path, weights_only=False)["train"]["labels"].shape[0])
        mer_shape = tuple(torch.load(mer_path, weights_only=False)["train"]["images"].shape[1:])
        steps["mer"], _ = epoch(
            mer_path, mer, n_mer, mer_shape, 8, "MER aA2E epoch, reference attack every batch"
        )

    print(f"\n{'step':<58} {'seconds':>9} {'floor s':>9} {'ratio':>7}")
    for s in steps.values():
        print(f"{s.name:<58} {s.seconds:>9.4g} {s.floor(peak):>9.4g} {s.seconds / s.floor(peak):>7.4g}{mark}")
    s512, s_rob = steps["batch512"], steps["robust"]
    per_50k = s512.seconds * 50_000 / args.n_train
    ok_512 = "OK" if per_50k <= 4 else "MISSED"
    ok_rob = "OK" if s_rob.seconds / s_rob.floor(peak) <= 3 else "MISSED"
    print(
        f"standard epoch at batch 512: {per_50k:.2f} s per 50,000 images (target <= 4 s) "
        f"{ok_512 if gpu else 'not measured on a GPU'}; "
        f"L2-PGD-20 epoch at {s_rob.seconds / s_rob.floor(peak):.1f}x "
        f"its floor (target <= 3x) {ok_rob if gpu else 'not measured on a GPU'}"
    )
    campaign(cfg, steps, peak, mark)
    print(f"benchmark wall time: {time.perf_counter() - t_start:.0f} s")
    return 0


def campaign(cfg: dict, steps: dict[str, Step], peak: float, mark: str) -> None:
    """The paper campaign per study and dataset: FLOP floor, projection from the measured ratios (each job
    by the step of its kind: the ResNet-18's standard or adversarial epoch, the ResNet-50's epoch times
    the adversarial overhead measured on the ResNet-18, MER's epoch, the evaluate job), sizing's request."""
    ratio = {role: s.seconds / s.floor(peak) for role, s in steps.items()}
    rows: dict[str, list[float]] = {}
    for study, datasets in CAMPAIGN.items():
        seeds = len(study_seeds(cfg, study))
        for dataset in datasets:
            for variant in cfg[study]["variants"]:
                cost = sizing.model_cost(cfg, study, variant, dataset)
                if cost is None:
                    continue
                spec, size, flops = cost
                adversarial = bool(spec.get("attack"))
                if study == "mer":
                    r = ratio["mer"]
                elif spec["model"].get("arch") == "resnet50":
                    r = ratio["resnet50"] * (ratio["robust"] / ratio["standard"] if adversarial else 1)
                else:
                    r = ratio["robust"] if adversarial else ratio["standard"]
                t_floor = 3 * flops * sizing.train_passes(spec, size.n_train) / peak / 3600
                e_floor = 3 * flops * sizing.evaluate_passes(eval_spec(cfg, study, dataset)) / peak / 3600
                e_ratio = ratio["evaluate"]
                asks = sizing.train_minutes(cfg, study, variant, dataset)
                asks = (asks + sizing.evaluate_minutes(cfg, study, variant, dataset)) / 60
                row = rows.setdefault(f"{study} {dataset}", [0.0, 0.0, 0.0, 0.0])
                row[0] += seeds * 2
                row[1] += seeds * (t_floor + e_floor)
                row[2] += seeds * (t_floor * r + e_floor * e_ratio)
                row[3] += seeds * asks
    print(
        f"\n{'paper campaign':<28} {'jobs':>5} {'floor GPU-h':>12} "
        f"{'projected GPU-h':>16} {'sizing asks h':>14}"
    )
    total = [0.0] * 4
    for name, row in rows.items():
        total = [a + b for a, b in zip(total, row, strict=True)]
        print(f"{name:<28} {row[0]:>5.0f} {row[1]:>12.1f} {row[2]:>16.1f} {row[3]:>14.0f}{mark}")
    print(f"{'all':<28} {total[0]:>5.0f} {total[1]:>12.1f} {total[2]:>16.1f} {total[3]:>14.0f}{mark}")


if __name__ == "__main__":
    sys.exit(main())
