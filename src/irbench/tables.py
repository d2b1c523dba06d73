"""Comparison tables: per-seed records aggregated per variant (mean and std over seeds) beside the papers'
numbers, each column formatted by its metric's declaration (unit, from the probe that writes it).

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
from irbench.probes import Metric, metric_info
from irbench.records import ID_COLUMNS, load_records
from irbench.refine import SINGLE_RULES

REFERENCE_PATH = Path(__file__).with_name("reference.yaml")


def paper_reference(study: str) -> dict[str, Any]:
    """The papers' numbers for a study: {paper_dataset: {variant: {metric: value}}, 'source': str}."""
    return load_yaml(REFERENCE_PATH).get(study, {})


# Columns taken from the training records (record field -> column): the cost of training and, for refined
# variants, of LIME and how well round 1's flags matched the planted cue (synthetic data).
TRAIN_METRICS = {
    "wall_s": Metric(
        "train_s", "seconds", False, "training wall time (a refined variant: the refinement alone)"
    ),
    "lime_s": Metric("lime_s", "seconds", False, "time spent explaining with LIME during refinement"),
    "flag_precision": Metric("flag_precision", "percent", True, "flagged pixels that lie on the planted cue"),
    "flag_recall": Metric("flag_recall", "percent", True, "pixels of the planted cue that are flagged"),
    "flag_on_object": Metric("flag_on_object", "percent", False, "flagged pixels that lie on the object"),
}
# ... and of each flag rule alone, on the same explanations (irbench.refine.SINGLE_RULES)
for _rule in SINGLE_RULES:
    for _score, _what in (("precision", "flagged pixels on the cue"), ("recall", "cue pixels flagged")):
        _name = f"flag_{_rule}_{_score}"
        TRAIN_METRICS[_name] = Metric(_name, "percent", True, f"{_what} by the {_rule} rule alone")


def describe(metric: str) -> Metric:
    """A column's declaration: the probe's (or the training record's) Metric for it."""
    return metric_info(metric, extra=list(TRAIN_METRICS.values()))


def is_fraction(metric: str) -> bool:
    """Metrics declared in percent are stored as fractions and shown x100."""
    return describe(metric).unit == "percent"


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


def column_legend(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(metric, what it is) for every metric column of a summary table, from its declaration: the
    description, the unit and which direction is better."""
    out = []
    for c in table.columns:
        if c.endswith("_mean") and not c.startswith("paper_"):
            m = describe(c[: -len("_mean")])
            unit = {"percent": "%", "seconds": "s", "raw": ""}[m.unit]
            better = {True: "higher is better", False: "lower is better", None: ""}[m.higher_is_better]
            notes = "; ".join(t for t in (unit, better) if t)
            out.append((c[: -len("_mean")], m.description + (f" ({notes})" if notes else "")))
    return out


def markdown(table: pd.DataFrame, study: str, source: str = "") -> str:
    """A Markdown table of `table_cells`, titled, with the papers' source and the column legend below."""
    head, rows = table_cells(table)
    lines = [f"# {study}: mean ± std over seeds", "", "| " + " | ".join(head) + " |"]
    lines.append("|" + "|".join(["---"] * len(head)) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    if source:
        lines += ["", f"Paper numbers: {source}"]
    lines += ["", "Columns:", ""] + [f"- `{name}`: {text}" for name, text in column_legend(table)]
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
    records = load_records(eval_paths)
    trained = {tuple(r[k] for k in ID_COLUMNS): r for r in map(read_json, train_paths)}
    keys = [tuple(row) for row in records[list(ID_COLUMNS)].itertuples(index=False)]
    for field, metric in TRAIN_METRICS.items():
        values = [trained.get(k, {}).get(field) for k in keys]
        if any(v is not None for v in values):
            records[metric.pattern] = values
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
