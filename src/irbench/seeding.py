"""Seeding: every job seeds Python, NumPy and torch, so one seed and configuration give one result on CPU."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from irbench.errors import IrbenchError
from irbench.machine import nvidia_driver


def seed_everything(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Seed the global RNGs and return a dedicated torch.Generator for shuffling and augmentation, living on
    `device`: training on CUDA draws its shuffles, crops and attack starts there, with no host copy."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global users too
    torch.manual_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def draw_device(generator: torch.Generator | None) -> torch.device:
    """Where a random draw from `generator` is made: the generator's device (None: the CPU's global
    stream). A draw made there and moved to its tensor's device costs nothing when the two agree."""
    return generator.device if generator is not None else torch.device("cpu")


DEVICE_VARIABLE = "IRBENCH_DEVICE"  # a device for every job, in place of `auto` (e.g. cpu on a test cluster)
# What says a job was given a GPU: CUDA's own mask and SLURM's allocation.
GPU_VARIABLES = ("CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS")  # device indices


def _gpu_given() -> str | None:
    """`NAME=value` of the variable that gave this job a GPU, or None (unset, empty or -1: none given)."""
    for var in GPU_VARIABLES:
        value = os.environ.get(var, "").strip()
        if value and value not in ("-1", "NoDevFiles"):
            return f"{var}={value}"
    return None


def _unusable(why: str) -> IrbenchError:
    """One line: torch's build, the driver found, why the GPU cannot be used and what to install."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.is_available()
    said = next((str(w.message).splitlines()[0] for w in caught), "")
    build = f"CUDA {torch.version.cuda} build" if torch.version.cuda else "CPU-only build"
    driver = nvidia_driver() or "no NVIDIA driver loaded"
    return IrbenchError(
        f"{why}, but torch {torch.__version__} ({build}) cannot use it ({driver}"
        f"{'; ' + said if said else ''}): install a torch build for this driver "
        "(https://pytorch.org/get-started/locally/) or a driver for that CUDA, or set IRBENCH_DEVICE=cpu "
        "to run on the CPU; not training on the CPU without a word"
    )


def pick_device(requested: str = "auto") -> torch.device:
    """`auto` picks CUDA when available, else the CPU; but a job that was given a GPU (CUDA_VISIBLE_DEVICES
    or SLURM's GPU variables) it cannot use stops here in one line, as does an explicit `cuda`. The
    environment's IRBENCH_DEVICE (`cpu`, `cuda`, `cuda:1`) replaces `auto`."""
    if requested == "auto":
        requested = os.environ.get(DEVICE_VARIABLE, "auto") or "auto"
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        given = _gpu_given()
        if given is not None:
            raise _unusable(f"this job was given a GPU ({given})")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise _unusable(f"this job asked for {requested}")
    return torch.device(requested)
