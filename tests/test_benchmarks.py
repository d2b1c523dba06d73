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


@pytest.mark.skipif(not CIFAR10.is_dir(), reason="needs the real CIFAR-10 batches beside the project")
def test_paper_cost_benchmark_measures_every_step_and_projects_the_campaign_on_cpu():
    """benchmarks/paper_cost.py at a few images: every step of a paper run is timed beside its FLOP floor,
    the campaign's GPU-hours are projected per study and dataset, and every figure says it is not a GPU's."""
    cmd = [sys.executable, str(ROOT / "benchmarks/paper_cost.py"), "--cifar", str(CIFAR10)]
    cmd += [
        "--n-train",
        "128",
        "--n-robust",
        "32",
        "--n-imagenet",
        "8",
        "--aa-images",
        "2",
        "--shrink",
        "5000",
    ]
    cmd += ["--n-test", "100", "--mer-clips", "10", "--mer-frames", "40"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    steps = [
        "CIFAR ResNet-18 epoch, standard, batch 128",
        "CIFAR ResNet-18 epoch, standard, batch 512",
        "CIFAR ResNet-18 epoch, L2-PGD-20, batch 128",
        "ResNet-50 128 px epoch, standard, batch 200",
        "AutoAttack standard, L2 0.5",
        "evaluate job, robust CIFAR, paper probes / 5000",
        "MER aA2E epoch, reference attack every batch",
    ]
    for step in steps:
        line = next(ln for ln in out.splitlines() if ln.startswith(step))
        seconds, floor, ratio = (float(v) for v in line[len(step) :].split()[:3])
        assert seconds > 0 and floor > 0 and ratio == pytest.approx(seconds / floor, rel=0.05, abs=0.1)
        assert line.endswith("[not a GPU figure]")
    for row in ("vision cifar10", "vision small_imagenet150", "mer soundtracks", "lime cifar10", "all "):
        assert any(ln.startswith(row) and ln.endswith("[not a GPU figure]") for ln in out.splitlines()), row
    assert out.count("not measured on a GPU") == 2 and "CPU: not a GPU figure" in out
