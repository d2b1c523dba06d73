"""The README's default-run numbers, machine-readable, and a run compared against them within a tolerance.

`benchmarks/default_run.py --readme` writes `report/default_run.json` beside the README's result blocks:
the run's configuration hash, commit, machine and every study's table (mean, std and seeds per dataset
and variant). The same commit, configuration and seeds give bit-identical numbers on one machine, not
across machines (CPU kernels differ), so the report of a run of the same configuration says how far it is
from the published numbers, metric by metric, rather than implying that they are equal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.io import read_json, write_json

PUBLISHED = Path("report") / "default_run.json"
SE_FACTOR = 3.0  # standard errors of the difference of the two means
RELATIVE_FLOOR = 0.01  # plus this fraction of the value: metrics with no spread over seeds still get a margin
ID = ("dataset", "variant")


@dataclass(frozen=True)
class Published:
    """A run whose numbers the README shows: where it came from and every study's table rows."""

    config_hash: str
    commit: str
    machine: str
    tables: dict[str, list[dict[str, Any]]]  # study -> rows {dataset, variant, n_seeds, <m>_mean, <m>_std}


def snapshot(results: str | os.PathLike, config_hash: str, commit: str, machine: str) -> Published:
    """The tables of a finished run's `results/` folder."""
    tables = {
        csv.stem: [
            {k: v for k, v in r.items() if pd.notna(v)} for r in pd.read_csv(csv).to_dict(orient="records")
        ]
        for csv in sorted((Path(results) / "tables").glob("*.csv"))
        if not csv.stem.endswith("_curves")
    }
    return Published(config_hash, commit, machine, tables)


def save(published: Published, path: str | os.PathLike = PUBLISHED) -> None:
    write_json(asdict(published), path)


def load(path: str | os.PathLike = PUBLISHED) -> Published | None:
    """The published run, or None where there is none (a fork that has not run the benchmark)."""
    return Published(**read_json(path)) if Path(path).is_file() else None


def _tolerance(a: pd.Series, b: pd.Series, metric: str) -> float:
    """How far two means over seeds may differ and still agree: SE_FACTOR standard errors of their
    difference, plus RELATIVE_FLOOR of their size."""
    spread = sum((float(r.get(f"{metric}_std") or 0.0) ** 2) / max(1, int(r["n_seeds"])) for r in (a, b))
    size = max(abs(float(a[f"{metric}_mean"])), abs(float(b[f"{metric}_mean"])))
    return SE_FACTOR * math.sqrt(spread) + RELATIVE_FLOOR * size


def compare(published: Published, tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every mean that both the published run and this run have, with the difference and the tolerance:
    columns study, dataset, variant, metric, published, this run, difference, tolerance, within."""
    rows = []
    for study, table in tables.items():
        theirs = {tuple(r[k] for k in ID): pd.Series(r) for r in published.tables.get(study, [])}
        for _, ours in table.iterrows():
            other = theirs.get(tuple(ours[k] for k in ID))
            if other is None:
                continue
            for column in table.columns:
                metric = column.removesuffix("_mean")
                if not column.endswith("_mean") or column.startswith("paper_") or column not in other:
                    continue
                a, b = other[column], ours[column]
                if pd.isna(a) or pd.isna(b):
                    continue
                tol = _tolerance(other, ours, metric)
                diff = float(b) - float(a)
                rows.append(
                    (study, ours["dataset"], ours["variant"], metric, a, b, diff, tol, abs(diff) <= tol)
                )
    columns = [
        "study",
        "dataset",
        "variant",
        "metric",
        "published",
        "this run",
        "difference",
        "tolerance",
        "within",
    ]
    return pd.DataFrame(rows, columns=columns)


def comparison_lines(published: Published | None, config_hash: str, compared: pd.DataFrame) -> list[str]:
    """What the report says above the table of values outside the tolerance."""
    if published is None:
        return []
    if published.config_hash != config_hash:
        return [
            f"This run's configuration (hash {config_hash}) is not the one of the README's default run "
            f"({published.config_hash}, commit {published.commit}): its numbers are not compared."
        ]
    inside = int(compared["within"].sum())
    return [
        f"Against the README's default run (commit {published.commit}, {published.machine}): {inside} of "
        f"{len(compared)} means within tolerance ({SE_FACTOR:g} standard errors of the difference of the two "
        f"means, plus {RELATIVE_FLOOR:.0%} of the value). The same commit and seeds give the same numbers on "
        "one machine, not across machines: CPU kernels differ."
    ]
