"""Benchmark: LIME explanations per second, in one run, against the model's floor and lime's default usage.

A width-16 CIFAR ResNet-18 (random weights: the cost does not depend on them), `--samples` perturbations
per image, slic segmentation, real CIFAR-10 test images where ../shared/data has them (else noise).
1. The model's best inference throughput over batch sizes (measured): the floor of one explanation is
   num_samples / that throughput.
2. irbench's `explain_batch` on `--images` images at that batch size (batches shared across images):
   seconds per explanation, and its overhead above the floor (target: under 30%).
3. lime's own `LimeImageExplainer.explain_instance` with its default batch of 10 on `--lime-images` images:
   seconds per explanation and the speed-up; both must rank the same top superpixels (same random state).

Usage: .venv/bin/python benchmarks/lime_speed.py [--samples 1000] [--images 16] [--lime-images 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from irbench.explain.lime_batch import classifier, explain_batch, segmenter
from irbench.models import build_model

CIFAR = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / "cifar-10-batches-py"
BATCHES = (10, 50, 100, 250, 500, 1000)


def images(n: int) -> torch.Tensor:
    if (CIFAR / "test_batch").is_file():
        from irbench.datasets.cifar import load_cifar

        splits, _ = load_cifar(CIFAR, "cifar10", ["test_batch"])
        return torch.from_numpy(splits["test"]["images"][:n]).float() / 255
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@torch.no_grad()
def best_throughput(model: torch.nn.Module, device: torch.device) -> tuple[int, float]:
    """(batch size, images/s) of the fastest batch size, each timed over about 2,000 images."""
    best = (0, 0.0)
    for bs in BATCHES:
        x = torch.rand(bs, 3, 32, 32, device=device)
        model(x)
        reps = max(1, 2000 // bs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(reps):
            model(x)
        if device.type == "cuda":
            torch.cuda.synchronize()
        rate = reps * bs / (time.perf_counter() - t0)
        print(f"  model at batch {bs:5d}: {rate:8.0f} images/s")
        best = max(best, (bs, rate), key=lambda b: b[1])
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--images", type=int, default=16)
    ap.add_argument("--lime-images", type=int, default=4)
    args = ap.parse_args()
    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = build_model({"arch": "resnet18", "width": 16}, n_classes=10).to(device).eval()
    x = images(max(args.images, args.lime_images))
    print(f"width-16 ResNet-18 on {device}, {args.samples} samples per explanation, slic segmentation")
    bs, rate = best_throughput(model, device)
    floor = args.samples / rate
    print(f"model floor: {floor:.3f} s per explanation (batch {bs}, {rate:.0f} images/s)")

    explain_batch(model, x[:1].to(device), num_samples=50, batch_size=bs, seed=0)  # warm-up
    t0 = time.perf_counter()
    ours = explain_batch(model, x[: args.images].to(device), num_samples=args.samples, batch_size=bs, seed=0)
    t_ours = (time.perf_counter() - t0) / args.images
    overhead = t_ours / floor - 1
    print(f"irbench explain_batch: {t_ours:.3f} s per explanation, {overhead * 100:+.1f}% above the floor")

    from lime.lime_image import LimeImageExplainer

    predict = classifier(model, device)
    t_lime, same = 0.0, 0
    for i in range(args.lime_images):
        explainer = LimeImageExplainer(random_state=0)
        one = x[i : i + 1].to(device)
        reference = explain_batch(model, one, num_samples=args.samples, batch_size=bs, seed=0)[0]
        label = int(reference.probs.argmax())
        t0 = time.perf_counter()
        e = explainer.explain_instance(
            x[i].permute(1, 2, 0).double().numpy(),
            predict,
            labels=(label,),
            top_labels=None,
            num_samples=args.samples,
            segmentation_fn=segmenter(None, 0),
            random_seed=0,
            batch_size=10,
        )
        t_lime += time.perf_counter() - t0
        top_lime = [f for f, _ in sorted(e.local_exp[label], key=lambda fv: -fv[1])[:3]]
        same += top_lime == list(np.argsort(-reference.weights[label])[:3])
    t_lime /= args.lime_images
    print(f"lime explain_instance (batch 10): {t_lime:.3f} s per explanation")
    print(f"same top-3 superpixels as lime on {same}/{args.lime_images} images")
    ok = overhead < 0.30 and t_ours <= t_lime
    print(
        f"speed-up over lime's default usage {t_lime / t_ours:.2f}x; overhead above the model floor "
        f"{overhead * 100:.1f}% (target < 30%, never slower than lime) {'OK' if ok else 'MISSED'}"
    )
    del ours
    return 0 if ok and same == args.lime_images else 1


if __name__ == "__main__":
    sys.exit(main())
