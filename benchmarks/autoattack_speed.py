"""Benchmark: AutoAttack's examples per second against PGD-20 on the same model and images, in one run.

A width-8 CIFAR ResNet-18 (the quick vision model before ResNet-10) is trained for `--epochs` epochs on
generated synthetic shapes (so the attacks face a model that classifies, not one that is already wrong
everywhere), then on `--images` test images at L-inf 4/255:
1. irbench's PGD-20 (step 2.5 eps / 20, no random start): examples/s and accuracy;
2. AutoAttack (pyautoattack) `custom` APGD-CE + APGD-T, the quick scale's setting: examples/s, accuracy;
3. optionally (`--standard`) AutoAttack's standard version (APGD-CE, APGD-T, FAB-T, Square).
Prints each one's examples/s as a ratio against PGD-20 (the named baseline) and checks that AutoAttack's
accuracy is not above PGD-20's (it must be the stronger attack).

Usage: .venv/bin/python benchmarks/autoattack_speed.py [--images 200] [--epochs 3] [--standard]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

from irbench.datasets.synthetic_shapes import generate
from irbench.evaluation import attacked_predictions
from irbench.models import build_model
from irbench.probes.autoattack import autoattack_correct
from irbench.seeding import pick_device, seed_everything

EPS = 4 / 255


def trained_model(epochs: int, device: torch.device) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A width-8 ResNet-18 (the quick model before ResNet-10) trained briefly on synthetic shapes; its test
    images and labels."""
    d = generate(n_train=3000, n_test=1000, n_classes=10, image_size=32, p_train=0.9, seed=1234)
    x = torch.from_numpy(d["train"]["images"]).float().div(255).to(device)
    y = torch.from_numpy(d["train"]["labels"]).to(device)
    model = build_model({"arch": "resnet18", "width": 8}, n_classes=10, in_channels=3).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(x), device=device).split(64):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()
    xt = torch.from_numpy(d["test"]["images"]).float().div(255).to(device)
    return model, xt, torch.from_numpy(d["test"]["labels"]).to(device)


def timed(fn) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--standard", action="store_true", help="also time AutoAttack's standard version")
    args = parser.parse_args()
    seed_everything(0)
    device = pick_device()
    model, x, y = trained_model(args.epochs, device)
    x, y = x[: args.images], y[: args.images]
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    print(
        f"model: ResNet-18 width 8, clean accuracy {clean:.3f} on {len(x)} images; L-inf eps 4/255; {device}"
    )
    pgd = {"method": "pgd", "norm": "linf", "eps": EPS, "steps": 20, "step": 2.5 * EPS / 20}
    s_pgd, pred = timed(lambda: attacked_predictions(model, x, y, pgd, batch_size=args.batch_size))
    acc_pgd = (pred == y).float().mean().item()
    print(f"PGD-20 (baseline): {len(x) / s_pgd:.1f} examples/s, accuracy {acc_pgd:.3f}")
    versions = [("custom APGD-CE + APGD-T", {"version": "custom", "attacks": ["apgd-ce", "apgd-t"]})]
    if args.standard:
        versions.append(("standard", {"version": "standard"}))
    ok = True
    for name, spec in versions:
        s_aa, result = timed(
            lambda spec=spec: autoattack_correct(
                model,
                x,
                y,
                {"norm": "linf", "eps": EPS},
                spec,
                seed=0,
                batch_size=args.batch_size,
                device=device,
            )
        )
        acc = result.correct.float().mean().item()
        print(
            f"AutoAttack {name}: {len(x) / s_aa:.1f} examples/s = {s_pgd / s_aa:.3f}x PGD-20's; "
            f"accuracy {acc:.3f} "
            f"({'not above' if acc <= acc_pgd + 1e-9 else 'ABOVE'} PGD-20's); "
            f"checks: {result.warnings or 'none'}"
        )
        ok &= acc <= acc_pgd + 1e-9
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
