"""What a job ran on: the CPU, the accelerator and the library builds, recorded in every training and
evaluation file. Numbers are bit-identical for the same seed and configuration on one machine, not across
machines (CPU kernels differ), so a record says where it came from."""

from __future__ import annotations

import os
import platform
from functools import cache
from typing import Any

import torch


@cache
def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo; else what `platform` knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def nvidia_driver() -> str | None:
    """The loaded NVIDIA driver's version, as its kernel module says (`driver 550.54.15`), else None."""
    try:
        with open("/proc/driver/nvidia/version") as f:
            return "driver " + f.readline().split("Kernel Module")[-1].split()[0]
    except (OSError, IndexError):
        return None


def describe(device: torch.device | str) -> dict[str, Any]:
    """The machine and builds behind a job's numbers: device, CPU model and cores, torch and its CUDA and
    oneDNN builds, and the GPU's name, capability and NVIDIA driver where the job ran on one."""
    dev = torch.device(device)
    out: dict[str, Any] = {
        "device": str(dev),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": str(torch.__version__),  # a plain str: TorchVersion does not load with weights_only
        "torch_cuda": torch.version.cuda,
        "mkldnn": torch.backends.mkldnn.is_available(),
    }
    if dev.type == "cuda":
        index = dev.index if dev.index is not None else torch.cuda.current_device()
        out["gpu"] = torch.cuda.get_device_name(index)
        out["gpu_capability"] = ".".join(map(str, torch.cuda.get_device_capability(index)))
        out["nvidia_driver"] = nvidia_driver()
    return out
