"""The figure job: draw one probe's figure from the evaluate jobs' records or artifacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from irbench.io import load_torch, read_json
from irbench.probes import PROBES


def figure_job(
    *,
    probe: str,
    kind: str,
    inputs: Sequence[str],
    output: str,
    title: str,
    spec: Mapping[str, Any],
    log: Callable[[str], None] = print,
) -> None:
    """Draw the `kind` figure of `probe`: per-seed figures from the artifacts files of every variant, the
    others from every variant's and seed's records."""
    fig = next(f for f in PROBES.get(probe).figures if f.kind == kind)
    if fig.per_seed:
        payloads = [load_torch(p)["probes"][probe] for p in inputs]
    else:
        payloads = [read_json(p) for p in inputs]
    fig.draw(payloads, output, f"{title}: {fig.title}" if fig.title else title, spec)
    log(f"wrote {output}")
