"""The corrupt job: the corrupted test images the `corruptions` probe scores."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from irbench.data.tensors import load_split
from irbench.io import save_torch


def corrupt_job(
    *, data: str, output: str, spec: Mapping[str, Any], seed: int, log: Callable[[str], None] = print
) -> None:
    """Write the corrupted test images of a prepared dataset (atomically): `spec['released']` names a
    CIFAR-10-C folder to read, else the corruptions are generated from the first `n_images` test images."""
    from irbench.data.cifar10c import corruption_set

    test = load_split(data, "test", raw=True)
    n = min(spec["n_images"], len(test))
    t0 = time.perf_counter()
    out = corruption_set(
        test.x[:n], test.y[:n], spec["names"], spec["severities"], seed, released=spec.get("released")
    )
    save_torch(out, output)
    elapsed = time.perf_counter() - t0
    log(f"{len(out['images'])} corrupted sets of {n} images ({out['source']}) in {elapsed:.1f} s")
