"""Seeding: every job seeds Python, NumPy and torch, so one seed and configuration give one result on CPU."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed the global RNGs and return a dedicated torch.Generator for shuffling and augmentation."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - seeds legacy global users too
    torch.manual_seed(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def pick_device(requested: str = "auto") -> torch.device:
    """`auto` picks CUDA when available, else CPU."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)
