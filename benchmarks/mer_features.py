"""Benchmark: MER feature extraction (decode + resample + log-filtered spectrogram + 10 s excerpt), clips/s
on all cores against a single-process loop over the same files, in one run. Target: at least 1.8x on 2
cores. Files: the real recordings in ../shared/data/audio (61 s and 46 s Ogg Vorbis), each copied
`--copies` times; where they are absent, synthetic 30 s clips written as WAV.

Usage: .venv/bin/python benchmarks/mer_features.py [--copies 8]
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
    ap.add_argument("--copies", type=int, default=8)
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
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
