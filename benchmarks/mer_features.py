"""Benchmark: MER feature extraction (decode + resample + log-filtered spectrogram + 10 s excerpt), clips/s
on all cores against a single-process loop over the same files, in one run. Target: at least 1.8x on 2
cores. Files: the real recordings in ../shared/data/audio (61 s and 46 s Ogg Vorbis), each copied
`--copies` times; where they are absent, synthetic 30 s clips written as WAV.

Then training samples/s of the paper's full-width network (A2E and, in an adversarial epoch, aA2E) with
the paper's batch of 8 on 313x149 excerpts, on the best local device (bf16 autocast on CUDA).

Usage: .venv/bin/python benchmarks/mer_features.py [--copies 32] [--train-clips 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from irbench.audio.features import clip_features, extract_features
from irbench.audio.spectrogram import DEFAULT_SPEC
from irbench.audio.synthetic import synthesise

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "data" / "audio"


def make_files(folder: Path, copies: int) -> list[Path]:
    sources = sorted(AUDIO.glob("*.ogg")) if AUDIO.is_dir() else []
    if not sources:
        for i in range(2):
            sources.append(folder / f"synthetic{i}.wav")
            sf.write(sources[-1], synthesise(np.full(7, 0.5), i, seconds=30.0), 22050)
    files = []
    for k in range(copies):
        for src in sources:
            files.append(folder / f"{k}_{src.name}")
            shutil.copy(src, files[-1])
    return files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=32)
    ap.add_argument("--train-clips", type=int, default=40, help="synthetic clips for the training benchmark")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="irbench-mer-") as tmp:
        files = make_files(Path(tmp), args.copies)
        clip_features(str(files[0]), 0, 0, 313, DEFAULT_SPEC.__dict__)  # warm caches (imports, soxr)
        t0 = time.perf_counter()
        serial = np.stack(
            [clip_features(str(p), i, 0, 313, DEFAULT_SPEC.__dict__) for i, p in enumerate(files)]
        )
        t_serial = time.perf_counter() - t0
        t0 = time.perf_counter()
        parallel = extract_features(files, seed=0, workers=cores)
        t_parallel = time.perf_counter() - t0
    assert np.array_equal(serial, parallel), "parallel extraction must equal the serial loop"
    n = len(files)
    ratio = t_serial / t_parallel
    print(f"{n} clips ({'real recordings' if AUDIO.is_dir() else 'synthetic'}), {cores} cores")
    print(
        f"single-process loop: {n / t_serial:.2f} clips/s; "
        f"irbench extract_features: {n / t_parallel:.2f} clips/s"
    )
    ok = ratio >= 1.8 or cores < 2
    print(f"ratio {ratio:.2f}x (target >= 1.8x on 2 cores) {'OK' if ok else 'MISSED'}; outputs identical")
    training_throughput(args.train_clips)
    return 0 if ok else 1


def training_throughput(n_clips: int) -> None:
    """Samples/s of one training epoch of A2E and of aA2E's adversarial epoch (clean + BIM step)."""
    from irbench.datasets import prepare_dataset
    from irbench.training import train_variant

    base = {
        "model": {"arch": "mer_vgg", "head": "a2e", "width_factor": 1.0},
        "train": {
            "epochs": 1,
            "batch_size": 8,
            "optimizer": "adam",
            "lr": 5e-4,
            "momentum": 0.9,
            "weight_decay": 0.0,
            "schedule": "constant",
            "augment": [],
            "val_fraction": 0.1,
            "val_size_max": 1000,
        },
        "objective": "mer",
        "attack": None,
    }
    bim = {"method": "bim", "norm": "linf", "eps": 0.001, "step": 0.002, "steps": 10}
    variants = {"A2E": base, "aA2E (adversarial epoch)": {**base, "attack": bim, "adv_every": 1}}
    with tempfile.TemporaryDirectory(prefix="irbench-mer-train-") as tmp:
        data = Path(tmp) / "mer.pt"
        spec = {"kind": "synthetic_mer", "n_clips": n_clips, "noise": 0.3, "n_frames": 313, "seed": 0}
        prepare_dataset(spec, data, workers=os.cpu_count() or 1)
        for name, v in variants.items():
            res = train_variant(data, v, seed=0, log=lambda _m: None)
            epoch_s, n_train = res.history[0]["epoch_s"], res.info["n_train"]
            print(
                f"training {name}: {n_train / epoch_s:.1f} samples/s on {res.info['device']} "
                f"(batch 8, full width, {n_train} clips; the epoch's time includes validating "
                f"{res.info['n_val']} clips)"
            )


if __name__ == "__main__":
    sys.exit(main())
