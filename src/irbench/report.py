"""Aggregation: per-seed evaluation records to comparison tables beside the papers' numbers.

Writes a CSV (one row per dataset and variant: n_seeds, mean and std of each metric, paper_<metric>),
a Markdown table (mean ± std), a metrics JSON of headline means (for `dvc metrics show`) and the
per-epoch training curves of every seed as a long CSV (for `dvc plots`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.config import load_yaml
from irbench.io import atomic_path, read_json, write_json, write_text

REFERENCE_PATH = Path(__file__).with_name("reference.yaml")
ID_COLUMNS = ("study", "dataset", "variant", "seed")


def paper_reference(study: str) -> dict[str, Any]:
    """The papers' numbers for a study: {paper_dataset: {variant: {metric: value}}, 'source': str}."""
    return load_yaml(REFERENCE_PATH).get(study, {})


def load_records(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per evaluation record (ids plus numeric metrics)."""
    rows = []
    for p in paths:
        rec = read_json(p)
        rows.append({**{k: rec[k] for k in ID_COLUMNS}, **rec["metrics"]})
    return pd.DataFrame(rows)


def summarise(
    records: pd.DataFrame, reference: Mapping[str, Any], paper_dataset: Mapping[str, str]
) -> pd.DataFrame:
    """Mean and std over seeds per (dataset, variant), with paper_<metric> columns where known."""
    metrics = [c for c in records.columns if c not in ID_COLUMNS and c != "n_eval"]
    grouped = records.groupby(["dataset", "variant"], sort=False)
    table = grouped[metrics].agg(["mean", "std"])
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "n_seeds", grouped.size())
    table = table.reset_index()
    for m in metrics:
        table[f"paper_{m}"] = [
            reference.get(paper_dataset.get(d, ""), {}).get(v, {}).get(m)
            for d, v in zip(table["dataset"], table["variant"], strict=True)
        ]
    table["paper_dataset"] = [paper_dataset.get(d, "") for d in table["dataset"]]
    return table


def markdown(table: pd.DataFrame, study: str, source: str = "") -> str:
    """A Markdown table: mean ± std (in %) per metric, then the paper's numbers in their own columns."""
    metrics = [c[: -len("_mean")] for c in table.columns if c.endswith("_mean")]
    head = ["dataset", "variant", "seeds"] + [f"{m} (%)" for m in metrics]
    paper = [m for m in metrics if table[f"paper_{m}"].notna().any()]
    head += [f"paper {m} (%)" for m in paper]
    lines = [f"# {study}: mean ± std over seeds", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join(["---"] * len(head)) + "|")
    for _, r in table.iterrows():
        cells = [r["dataset"], r["variant"], str(r["n_seeds"])]
        for m in metrics:
            std = r[f"{m}_std"]
            cells.append(
                f"{100 * r[f'{m}_mean']:.1f} ± {100 * std:.1f}"
                if pd.notna(std)
                else f"{100 * r[f'{m}_mean']:.1f}"
            )
        for m in paper:
            v = r[f"paper_{m}"]
            cells.append(f"{100 * v:.2f} ({r['paper_dataset']})" if pd.notna(v) else "")
        lines.append("| " + " | ".join(cells) + " |")
    if source:
        lines += ["", f"Paper numbers: {source}"]
    return "\n".join(lines) + "\n"


def curves(train_metric_paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Per-epoch history of every trained seed, long format (dataset, variant, seed, epoch, ...)."""
    frames = []
    for p in train_metric_paths:
        rec = read_json(p)
        df = pd.DataFrame(rec["history"])
        for k in ("dataset", "variant", "seed"):
            df.insert(0, k, rec[k])
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def write_report(
    study: str,
    eval_paths: Iterable[str | os.PathLike],
    train_paths: Iterable[str | os.PathLike],
    paper_dataset: Mapping[str, str],
    *,
    csv: str | os.PathLike,
    md: str | os.PathLike,
    metrics: str | os.PathLike,
    curves_csv: str | os.PathLike,
) -> pd.DataFrame:
    """Aggregate a study's records and write its four report files atomically."""
    ref = paper_reference(study)
    table = summarise(
        load_records(eval_paths), {k: v for k, v in ref.items() if k != "source"}, paper_dataset
    )
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    write_text(markdown(table, study, ref.get("source", "")), md)
    headline = {
        study: {
            f"{r['dataset']}/{r['variant']}": {
                c[: -len("_mean")]: round(float(r[c]), 4) for c in table.columns if c.endswith("_mean")
            }
            for _, r in table.iterrows()
        }
    }
    write_json(headline, metrics)
    with atomic_path(curves_csv) as tmp:
        curves(train_paths).to_csv(tmp, index=False, float_format="%.6g")
    return table
