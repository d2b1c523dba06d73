"""The GPU-path benchmark runs on a CPU (no CUDA here) through the same code, and says its figures are not
GPU figures."""

import subprocess
import sys

import pytest

from .conftest import ROOT, SHARED_DATA

CIFAR10 = SHARED_DATA / "cifar10" / "cifar-10-batches-py"


@pytest.mark.skipif(not CIFAR10.is_dir(), reason="needs the real CIFAR-10 batches beside the project")
def test_gpu_path_benchmark_runs_on_cpu_and_labels_its_figures():
    cmd = [sys.executable, str(ROOT / "benchmarks/gpu_path.py"), "--cifar", str(CIFAR10)]
    cmd += ["--n-train", "512", "--epochs", "2", "--images", "20", "--lime-images", "1", "--samples", "50"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "not the GPU figures" in out and out.count("not measured on a GPU") == 2
    for line in (
        "training epoch (irbench train_variant",
        "PGD-20 L-inf 8/255",
        "AutoAttack",
        "LIME, 50 samples",
    ):
        assert line in out, out
    assert "10,000 real images" in out  # the real batch, not random images
