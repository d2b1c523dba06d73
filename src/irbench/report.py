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
    """One row per (study, dataset, variant, seed): the metrics of all its records (evaluation,
    interpretation) merged."""
    rows: dict[tuple, dict[str, Any]] = {}
    for p in paths:
        rec = read_json(p)
        key = tuple(rec[k] for k in ID_COLUMNS)
        rows.setdefault(key, dict(zip(ID_COLUMNS, key, strict=True))).update(rec["metrics"])
    return pd.DataFrame(list(rows.values()))


def is_fraction(metric: str) -> bool:
    """Accuracies, rates and attribution masses are fractions (shown in %); FIDs and distances are not."""
    return metric.startswith(("acc_", "flag_")) or metric.endswith(("_mass", "_following"))


def _cell(value: float, std: float | None, metric: str, digits: int | None = None) -> str:
    """mean ± std, fractions in % with one decimal, other metrics with two (or `digits`)."""
    scale, default = (100, 1) if is_fraction(metric) else (1, 2)
    digits = default if digits is None else digits
    text = f"{scale * value:.{digits}f}"
    return text if std is None or pd.isna(std) else f"{text} ± {scale * std:.{digits}f}"


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


def table_cells(table: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and text rows of a summary table: mean ± std per metric (fractions in %), then the paper's
    numbers in their own columns."""
    metrics = [
        c[: -len("_mean")] for c in table.columns if c.endswith("_mean") and not c.startswith("paper_")
    ]

    def label(m: str) -> str:
        return f"{m} (%)" if is_fraction(m) else m

    head = ["dataset", "variant", "seeds"] + [label(m) for m in metrics]
    paper = [m for m in metrics if f"paper_{m}" in table and table[f"paper_{m}"].notna().any()]
    head += [f"paper {label(m)}" for m in paper]
    rows = []
    for _, r in table.iterrows():
        cells = [r["dataset"], r["variant"], str(r["n_seeds"])]
        cells += ["" if pd.isna(r[f"{m}_mean"]) else _cell(r[f"{m}_mean"], r[f"{m}_std"], m) for m in metrics]
        for m in paper:
            v = r[f"paper_{m}"]
            cells.append(f"{_cell(v, None, m, digits=2)} ({r['paper_dataset']})" if pd.notna(v) else "")
        rows.append(cells)
    return head, rows


def markdown(table: pd.DataFrame, study: str, source: str = "") -> str:
    """A Markdown table of `table_cells`, titled, with the papers' source below."""
    head, rows = table_cells(table)
    lines = [f"# {study}: mean ± std over seeds", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join(["---"] * len(head)) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
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


# Columns taken from the training records: the cost of training and, for refined variants, of LIME and
# how well round 1's flags matched the planted cue (synthetic data).
TRAIN_COLUMNS = {
    "train_s": "wall_s",
    "lime_s": "lime_s",
    "flag_precision": "flag_precision",
    "flag_recall": "flag_recall",
    "flag_on_object": "flag_on_object",
}


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
    records = load_records(eval_paths)
    trained = {tuple(r[k] for k in ID_COLUMNS): r for r in map(read_json, train_paths)}
    keys = [tuple(row) for row in records[list(ID_COLUMNS)].itertuples(index=False)]
    for column, field in TRAIN_COLUMNS.items():
        values = [trained.get(k, {}).get(field) for k in keys]
        if any(v is not None for v in values):
            records[column] = values
    table = summarise(
        records,
        {k: v for k, v in ref.items() if k not in ("source", "claims")},
        paper_dataset,
    )
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    write_text(markdown(table, study, ref.get("source", "")), md)
    headline = {
        study: {
            f"{r['dataset']}/{r['variant']}": {
                c[: -len("_mean")]: round(float(r[c]), 4)
                for c in table.columns
                if c.endswith("_mean") and not c.startswith("paper_")
            }
            for _, r in table.iterrows()
        }
    }
    write_json(headline, metrics)
    with atomic_path(curves_csv) as tmp:
        curves(train_paths).to_csv(tmp, index=False, float_format="%.6g")
    return table
