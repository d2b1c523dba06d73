"""Benchmark: the vision study's hot paths against named baselines, in one run.

1. Input pipeline (random crop + flip, images/s delivered as float batches): irbench's batched tensor
   augmentation of a uint8 tensor against a torchvision DataLoader with PIL transforms. Target >= 5x.
2. PGD-20 (examples/s, L-inf and L2) with irbench.attacks.pgd against torchattacks' PGD and PGDL2 on the
   same model and batch, with the accuracies under both attacks. Target: at least parity.
   torchattacks is a benchmark-only dependency: `.venv/bin/pip install --no-deps torchattacks==3.5.1`.
3. Training images/s of a width-8 ResNet-18 (the quick model before ResNet-10), standard and adversarial,
   recorded.
4. On CUDA: the epoch time of a width-64 ResNet-18 on 50,000 CIFAR-size images at batch 512 (target <= 4 s
   on an H100).

Data: the real CIFAR-10 batch in ../shared/data when present, else seeded random uint8 images.
Usage: .venv/bin/python benchmarks/vision_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from irbench.attacks.projected import pgd
from irbench.augment import augment
from irbench.data.tensors import to_unit
from irbench.models import build_model

ROOT = Path(__file__).resolve().parents[1]
CIFAR_BATCH = ROOT.parent / "shared" / "data" / "cifar10" / "data_batch_1"


def cifar_uint8(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n CIFAR-10 training images (N, 3, 32, 32) uint8 and labels; random ones where the batch is absent."""
    if CIFAR_BATCH.is_file():
        with open(CIFAR_BATCH, "rb") as f:
            d = pickle.load(f, encoding="latin1")
        x = torch.from_numpy(np.asarray(d["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        y = torch.tensor(d["labels"])
        reps = -(-n // len(x))
        return x.repeat(reps, 1, 1, 1)[:n], y.repeat(reps)[:n]
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g), torch.randint(0, 10, (n,))


def timed(fn, repeats: int = 1) -> float:
    """Best wall time of `repeats` calls (after one warm-up call; repeats=0: one call, no warm-up)."""
    if repeats:
        fn()
    best = float("inf")
    for _ in range(max(repeats, 1)):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best


def interleaved(a, b, repeats: int) -> tuple[float, float]:
    """Best wall times of a and b, measured alternately (a shared machine drifts; alternating is fair)."""
    a(), b()
    ta, tb = float("inf"), float("inf")
    for _ in range(repeats):
        ta, tb = min(ta, timed(a, 0)), min(tb, timed(b, 0))
    return ta, tb


def input_pipeline(n: int, batch: int, device: torch.device) -> tuple[float, float]:
    """Images/s delivered by batched tensor augmentation and by a DataLoader with PIL transforms."""
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms

    x, y = cifar_uint8(n)
    xd, gen = x.to(device), torch.Generator().manual_seed(0)

    def ours():
        perm = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, batch):
            to_unit(augment(xd[perm[i : i + batch]], ["crop", "flip"], gen))

    class PilDataset(Dataset):
        def __init__(self) -> None:
            self.images = [Image.fromarray(a.permute(1, 2, 0).numpy()) for a in x]
            self.tf = transforms.Compose(
                [
                    transforms.RandomCrop(32, padding=4),
                    transforms.RandomHorizontalFlip(),
                    transforms.ToTensor(),
                ]
            )

        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int):
            return self.tf(self.images[i]), int(y[i])

    loader = DataLoader(PilDataset(), batch_size=batch, shuffle=True, num_workers=0)

    def baseline():
        for xb, _ in loader:
            xb.to(device)

    t_ours, t_base = interleaved(ours, baseline, 2)
    return n / t_ours, n / t_base


def attack_speed(
    device: torch.device, batch: int, width: int
) -> list[tuple[str, float, float, float, float]]:
    """(norm, irbench ex/s, torchattacks ex/s, irbench adv acc, torchattacks adv acc) for PGD-20."""
    import torchattacks

    torch.manual_seed(0)
    model = build_model({"arch": "resnet18", "width": width}, n_classes=10).to(device).eval()
    x8, y = cifar_uint8(batch)
    x, y = to_unit(x8).to(device), y.to(device)
    # a model with some signal: a few steps on the batch so attacks have something to break
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    rows = []
    for norm, eps, step, theirs in (
        (
            "linf",
            8 / 255,
            2 / 255,
            torchattacks.PGD(model, eps=8 / 255, alpha=2 / 255, steps=20, random_start=False),
        ),
        ("l2", 0.5, 0.1, torchattacks.PGDL2(model, eps=0.5, alpha=0.1, steps=20, random_start=False)),
    ):
        out = {}

        def ours(norm=norm, eps=eps, step=step, out=out):
            out["ours"] = pgd(
                model, x, y, F.cross_entropy, eps=eps, step=step, steps=20, norm=norm, random_start=False
            )

        def baseline(theirs=theirs, out=out):
            out["theirs"] = theirs(x, y)

        t_ours, t_theirs = interleaved(ours, baseline, 3)
        with torch.no_grad():
            acc = [(model(out[k]).argmax(1) == y).float().mean().item() for k in ("ours", "theirs")]
        gap = (out["ours"] - out["theirs"]).abs().max().item()
        rows.append((norm, batch / t_ours, batch / t_theirs, *acc, gap))
    return rows


def training_speed(device: torch.device, n: int, batch: int, width: int, attack_steps: int) -> float:
    """Training images/s of a width-`width` ResNet-18 (augmentation included), standard or with PGD."""
    torch.manual_seed(0)
    model = build_model({"arch": "resnet18", "width": width}, n_classes=10).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x8, y = cifar_uint8(n)
    x8, y, gen = x8.to(device), y.to(device), torch.Generator().manual_seed(0)

    def epoch():
        model.train()
        perm = torch.randperm(n, generator=gen).to(device)
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            xb, yb = to_unit(augment(x8[idx], ["crop", "flip"], gen)), y[idx]
            if attack_steps:
                xb = pgd(
                    model, xb, yb, F.cross_entropy, eps=0.5, step=2.5 * 0.5 / attack_steps, steps=attack_steps
                )
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
                loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    return n / timed(epoch, 1)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run, not a measurement)")
    args = ap.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"device: {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    n_pipe = 2_000 if args.quick else 10_000

    ours, base = input_pipeline(n_pipe, 512, device)
    ratio = ours / base
    print(
        f"input pipeline (crop+flip, {n_pipe} images, batch 512): irbench {ours:,.0f} img/s, "
        f"DataLoader+PIL {base:,.0f} img/s, ratio {ratio:.1f}x (target >= 5x) "
        f"{'OK' if ratio >= 5 else 'MISSED'}"
    )
    ok = ratio >= 5

    try:
        import torchattacks  # noqa: F401
    except ImportError:
        print("PGD-20: skipped, torchattacks missing (.venv/bin/pip install --no-deps torchattacks==3.5.1)")
    else:
        batch = 64 if args.quick else 256
        for norm, a, b, acc_a, acc_b, gap in attack_speed(device, batch, 16):
            r = a / b
            print(
                f"PGD-20 {norm} (width-16 ResNet-18, batch {batch}): irbench {a:,.1f} ex/s, torchattacks "
                f"{b:,.1f} ex/s, ratio {r:.2f} (target parity: >= 0.95 allowing for timing noise) "
                f"{'OK' if r >= 0.95 else 'MISSED'}; adversarial accuracy {acc_a:.3f} vs {acc_b:.3f}, "
                f"max |x_irbench - x_torchattacks| {gap:.2g}"
            )
            ok &= r >= 0.95  # parity within timing noise

    n_train = 1_024 if args.quick else 3_000
    for steps in (0, 3):
        ips = training_speed(device, n_train, 64, 8, steps)
        what = "standard" if steps == 0 else f"L2-PGD-{steps} adversarial"
        print(f"training, width-8 ResNet-18 (batch 64, {what}): {ips:,.0f} img/s")
    if device.type == "cuda":
        n = 50_000
        seconds = n / training_speed(device, n, 512, 64, 0)
        print(
            f"CUDA epoch, ResNet-18 width 64, 50,000 CIFAR images, batch 512: {seconds:.2f} s "
            f"(target <= 4 s on an H100) {'OK' if seconds <= 4 else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
