"""The README's default-run numbers, machine-readable, and a run compared against them within a tolerance.

`benchmarks/default_run.py --readme` writes `report/default_run.json` beside the README's result blocks:
the run's fingerprint (what decides its numbers), commit, machine and every study's table (mean, std and
seeds per dataset and variant). The same commit, configuration and seeds give bit-identical numbers on
one machine, not across machines (CPU kernels differ), so the report of a run of the same configuration
says how far it is from the published numbers, metric by metric, rather than implying that they are equal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.errors import IrbenchError
from irbench.io import read_json, write_json

PUBLISHED = Path("report") / "default_run.json"
SE_FACTOR = 3.0  # standard errors of the difference of the two means
RELATIVE_FLOOR = 0.01  # plus this fraction of the value: metrics with no spread over seeds still get a margin
ID = ("dataset", "variant")


@dataclass(frozen=True)
class Published:
    """A run whose numbers the README shows: where it came from and every study's table rows."""

    fingerprint: str  # run_fingerprint of the run's configuration
    commit: str
    machine: str
    tables: dict[str, list[dict[str, Any]]]  # study -> rows {dataset, variant, n_seeds, <m>_mean, <m>_std}


def run_fingerprint(cfg: Mapping[str, Any]) -> str:
    """What decides a run's numbers: the configured studies' sections (scale applied), the seeds and the
    datasets they use; not entries no study uses, nor the tracking settings."""
    from irbench.config import config_hash

    used = sorted({d for s in cfg["studies"] for d in cfg[s]["datasets"]})
    return config_hash(
        {
            "studies": {s: cfg[s] for s in cfg["studies"]},
            "seeds": cfg.get("seeds"),
            "datasets": {d: cfg["datasets"][d] for d in used},
        }
    )


def snapshot(results: str | os.PathLike, fingerprint: str, commit: str, machine: str) -> Published:
    """The tables of a finished run's `results/` folder."""
    tables = {
        csv.stem: [
            {k: v for k, v in r.items() if pd.notna(v)} for r in pd.read_csv(csv).to_dict(orient="records")
        ]
        for csv in sorted((Path(results) / "tables").glob("*.csv"))
        if not csv.stem.endswith("_curves")
    }
    return Published(fingerprint, commit, machine, tables)


def save(published: Published, path: str | os.PathLike = PUBLISHED) -> None:
    write_json(asdict(published), path)


def load(path: str | os.PathLike = PUBLISHED) -> Published | None:
    """The published run, or None where there is none (a fork that has not run the benchmark)."""
    if not Path(path).is_file():
        return None
    try:
        return Published(**read_json(path))
    except TypeError as exc:
        raise IrbenchError(
            f"{path}: expected the keys fingerprint, commit, machine and tables (written by "
            "benchmarks/default_run.py --readme); run it again to rewrite the file"
        ) from exc


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


def comparison_lines(published: Published | None, fingerprint: str, compared: pd.DataFrame) -> list[str]:
    """What the report says above the table of values outside the tolerance."""
    if published is None:
        return []
    if published.fingerprint != fingerprint:
        return [
            f"This run's configuration (fingerprint {fingerprint}) is not the one of the README's default "
            f"run ({published.fingerprint}, commit {published.commit}): its numbers are not compared."
        ]
    inside = int(compared["within"].sum())
    return [
        f"Against the README's default run (commit {published.commit}, {published.machine}): {inside} of "
        f"{len(compared)} means within tolerance ({SE_FACTOR:g} standard errors of the difference of the two "
        f"means, plus {RELATIVE_FLOOR:.0%} of the value). The same commit and seeds give the same numbers on "
        "one machine, not across machines: CPU kernels differ."
    ]
