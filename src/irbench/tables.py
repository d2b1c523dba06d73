"""Comparison tables: per-seed records aggregated per variant (mean and std over seeds) beside the papers'
numbers, each column formatted by its metric's declaration (unit, from the probe that writes it).

Writes a CSV (one row per dataset and variant: n_seeds, mean and std of each metric, paper_<metric>),
a Markdown table (mean ± std), a metrics JSON of headline means (for `dvc metrics show`) and the
per-epoch training curves of every seed as a long CSV (for `dvc plots`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.config import load_yaml
from irbench.io import atomic_path, read_json, write_json, write_text
from irbench.lime_refinement import SINGLE_RULES
from irbench.probes import GROUPS, PROBES, Metric, configured, metric_info, metric_owner
from irbench.records import ID_COLUMNS, load_records

REFERENCE_PATH = Path(__file__).with_name("reference.yaml")


def source_text(study: str) -> str:
    """Where a study's paper numbers come from, and which are left out because the definitions differ."""
    ref = paper_reference(study)
    hidden = ref.get("not_comparable", {})
    return ref.get("source", "") + "".join(
        f" Not shown beside ours, as the definitions differ: {m} ({why})." for m, why in hidden.items()
    )


def paper_reference(study: str) -> dict[str, Any]:
    """The papers' numbers for a study: {paper_dataset: {variant: {metric: value}}, 'source': str}."""
    return load_yaml(REFERENCE_PATH).get(study, {})


# Columns taken from the training records (record field -> column): the cost of training and, for refined
# variants, of LIME and how well round 1's flags matched the planted cue (synthetic data).
TRAIN_METRICS = {
    "wall_s": Metric(
        "train_s",
        "seconds",
        False,
        "training wall time (a refined variant: the refinement alone)",
        label="training",
        group="cost",
    ),
    "lime_s": Metric(
        "lime_s",
        "seconds",
        False,
        "time spent explaining with LIME during refinement",
        label="LIME",
        group="cost",
    ),
    "flag_precision": Metric(
        "flag_precision",
        "percent",
        True,
        "flagged pixels that lie on the planted cue",
        label="precision",
        group="refinement",
    ),
    "flag_recall": Metric(
        "flag_recall",
        "percent",
        True,
        "pixels of the planted cue that are flagged",
        label="recall",
        group="refinement",
    ),
    "flag_on_object": Metric(
        "flag_on_object",
        "percent",
        False,
        "flagged pixels that lie on the object",
        label="flagged on the object",
        group="refinement",
    ),
}
# ... and of each flag rule alone, on the same explanations (irbench.lime_refinement.SINGLE_RULES)
for _rule in SINGLE_RULES:
    for _score, _what in (("precision", "flagged pixels on the cue"), ("recall", "cue pixels flagged")):
        _name = f"flag_{_rule}_{_score}"
        TRAIN_METRICS[_name] = Metric(
            _name,
            "percent",
            True,
            f"{_what} by the {_rule} rule alone",
            label=f"{_rule}: {_score}",
            group="refinement",
        )
UNIT_SUFFIX = {"percent": " (%)", "seconds": " (s)", "raw": ""}


def describe(metric: str) -> Metric:
    """A column's declaration: the probe's (or the training record's) Metric for it."""
    return metric_info(metric, extra=list(TRAIN_METRICS.values()))


def is_fraction(metric: str) -> bool:
    """Metrics declared in percent are stored as fractions and shown x100."""
    return describe(metric).unit == "percent"


@dataclass(frozen=True)
class Column:
    """A metric column as the tables show it: header (with unit), table section, place in the section."""

    metric: str
    header: str
    group: str
    order: tuple
    row: str | None = None  # for a metric shown in rows (Metric.row_by): its row, e.g. 'IG'


def columns(metrics: Sequence[str], specs: Mapping[str, Mapping[str, Any]] | None = None) -> list[Column]:
    """The metric columns in reading order: by section (GROUPS), then in the order the probes run (`specs`:
    each dataset's evaluate section), declare their metrics and list their settings (attacks, eps), with
    headers from the probes' settings where every dataset agrees (`L2-PGD eps 0.5 (%)`)."""
    specs = specs or {}
    probe_order = list(dict.fromkeys(k for spec in specs.values() for k in configured(spec)))
    probe_order += [k for k, _ in PROBES.items() if k not in probe_order]
    headers: dict[str, set[str]] = {}
    for spec in specs.values():
        for key in configured(spec):
            probe = PROBES.get(key)
            for name, text in (probe.headers(spec[key]) if probe.headers else {}).items():
                headers.setdefault(name, set()).add(text)
    listed = {name: i for i, name in enumerate(headers)}
    out = []
    for m in metrics:
        probe, index, metric = metric_owner(m, extra=list(TRAIN_METRICS.values()))
        texts = headers.get(m, set())
        text = next(iter(texts)) if len(texts) == 1 else metric.header(m)
        group = metric.group or (probe.group if probe else "cost")
        where = probe_order.index(probe.key) if probe else len(probe_order)
        order = (list(GROUPS).index(group), where, index, listed.get(m, len(listed)), m)
        row = None
        if metric.row_by:
            row, text = metric.pivot(m)
        out.append(Column(m, text + UNIT_SUFFIX[metric.unit], group, order, row))
    return sorted(out, key=lambda c: c.order)


def _digits(metric: str, values: Sequence[float]) -> int:
    """Decimals for a column: 1 for percent and seconds; raw values get two significant digits on their
    smallest nonzero mean (0.001 -> 4 decimals, 0.07 -> 3), at least 2 and at most 5."""
    unit = describe(metric).unit
    if unit != "raw":
        return 1
    small = [abs(v) for v in values if pd.notna(v) and v != 0]
    if not small:
        return 2
    return int(max(2, min(5, 1 - math.floor(math.log10(min(small))))))


def _cell(value: float, std: float | None, metric: str, digits: int) -> str:
    """mean ± std, fractions in %."""
    scale = 100 if is_fraction(metric) else 1
    text = f"{scale * value:.{digits}f}"
    return text if std is None or pd.isna(std) else f"{text} ± {scale * std:.{digits}f}"


def summarise(
    records: pd.DataFrame, reference: Mapping[str, Any], paper_dataset: Mapping[str, str]
) -> pd.DataFrame:
    """Mean and std over seeds per (dataset, variant), with paper_<metric> columns for the metrics the paper
    gives a number for."""
    metrics = [c for c in records.columns if c not in ID_COLUMNS and c != "n_eval"]
    grouped = records.groupby(["dataset", "variant"], sort=False)
    table = grouped[metrics].agg(["mean", "std"])
    table.columns = [f"{m}_{s}" for m, s in table.columns]
    table.insert(0, "n_seeds", grouped.size())
    table = table.reset_index()
    for m in metrics:
        values = [
            reference.get(paper_dataset.get(d, ""), {}).get(v, {}).get(m)
            for d, v in zip(table["dataset"], table["variant"], strict=True)
        ]
        if any(v is not None for v in values):  # a paper column only where the paper gives a number
            table[f"paper_{m}"] = values
    table["paper_dataset"] = [paper_dataset.get(d, "") for d in table["dataset"]]
    return table


def table_metrics(table: pd.DataFrame) -> list[str]:
    """The metrics a summary table holds (its `<metric>_mean` columns)."""
    return [c[: -len("_mean")] for c in table.columns if c.endswith("_mean") and not c.startswith("paper_")]


def table_sections(
    table: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """The summary table as (section title, header, text rows), one section per group of metrics: mean ±
    std per metric (fractions in %), each followed by the paper's number where the paper gives one."""
    cols = columns(table_metrics(table), specs)
    sections = []
    for group, title in GROUPS.items():
        mine = [c for c in cols if c.group == group and c.row is None]
        per_row = [c for c in cols if c.group == group and c.row is not None]
        if per_row:
            sections.append((title if not mine else f"{title}, per method", *_rows_section(table, per_row)))
        if not mine:
            continue
        head = ["dataset", "variant", "seeds"]
        for c in mine:
            head.append(c.header)
            if _has_paper(table, c.metric):
                head.append("paper")
        rows = []
        for _, r in table.iterrows():
            cells = [r["dataset"], r["variant"], str(r["n_seeds"])]
            for c in mine:
                digits = _digits(c.metric, table[f"{c.metric}_mean"])
                mean, std = r[f"{c.metric}_mean"], r[f"{c.metric}_std"]
                cells.append("" if pd.isna(mean) else _cell(mean, std, c.metric, digits))
                if _has_paper(table, c.metric):
                    v = r[f"paper_{c.metric}"]
                    paper = f"{_cell(v, None, c.metric, 2)} ({r['paper_dataset']})"
                    cells.append(paper if pd.notna(v) else "")
            rows.append(cells)
        sections.append((title, head, rows))
    return sections


def _rows_section(table: pd.DataFrame, cols: Sequence[Column]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of metrics shown per row value (Metric.row_by): one row per (dataset, variant, row
    value, e.g. the attribution method), one column per header."""
    heads = list(dict.fromkeys(c.header for c in cols))
    by = {(c.row, c.header): c for c in cols}
    rows = []
    for _, r in table.iterrows():
        for value in dict.fromkeys(c.row for c in cols):
            cells = [r["dataset"], r["variant"], str(r["n_seeds"]), value]
            for h in heads:
                c = by.get((value, h))
                mean = None if c is None else r[f"{c.metric}_mean"]
                if c is None or pd.isna(mean):
                    cells.append("")
                else:
                    digits = _digits(c.metric, table[f"{c.metric}_mean"])
                    cells.append(_cell(mean, r[f"{c.metric}_std"], c.metric, digits))
            if any(cells[4:]):
                rows.append(cells)
    return ["dataset", "variant", "seeds", describe(cols[0].metric).row_by, *heads], rows


def _has_paper(table: pd.DataFrame, metric: str) -> bool:
    return f"paper_{metric}" in table and table[f"paper_{metric}"].notna().any()


def column_legend(
    table: pd.DataFrame, specs: Mapping[str, Mapping[str, Any]] | None = None
) -> list[tuple[str, str]]:
    """(header, what it is) for every metric column of a summary table, in table order: the description,
    the stored name (the CSV's column), and which direction is better."""
    out = []
    for c in columns(table_metrics(table), specs):
        m = describe(c.metric)
        better = {True: "higher is better", False: "lower is better", None: ""}[m.higher_is_better]
        notes = "; ".join(t for t in (f"`{c.metric}`", better) if t)
        out.append((c.header, f"{m.description} ({notes})"))
    return out


def markdown(
    table: pd.DataFrame, study: str, source: str = "", specs: Mapping[str, Mapping[str, Any]] | None = None
) -> str:
    """Markdown tables of `table_sections`, titled, with the papers' source and the column legend below."""
    lines = [f"# {study}: mean ± std over seeds"]
    for title, head, rows in table_sections(table, specs):
        lines += ["", f"## {title}", "", md_table(head, rows)]
    if source:
        lines += ["", f"Paper numbers: {source}"]
    lines += ["", "Columns:", ""] + [f"- {name}: {text}" for name, text in column_legend(table, specs)]
    return "\n".join(lines) + "\n"


def md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] * len(head)) + "|"]
    return "\n".join(lines + ["| " + " | ".join(map(str, cells)) + " |" for cells in rows])


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


def headline_metrics(claims: Sequence[Mapping[str, Any]]) -> list[str]:
    """The metrics a reader compares first: those of the study's primary claims, in the claims' order."""
    names = [c[k] for c in claims if c.get("primary") for k in ("metric", "worse_metric") if k in c]
    return list(dict.fromkeys(names))


def write_headline(table: pd.DataFrame, names: Sequence[str], folder: str | os.PathLike) -> None:
    """One small JSON per dataset and variant, `<dataset>.<variant>.json`: the headline metrics' means over
    seeds. `dvc metrics show` makes each file a row and each metric a column, so the table fits a terminal
    (every other column stays in the study's tables)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    for _, row in table.iterrows():
        values = {m: round(float(row[f"{m}_mean"]), 4) for m in names if pd.notna(row.get(f"{m}_mean"))}
        write_json(values, Path(folder) / f"{row['dataset']}.{row['variant']}.json")


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
    specs: Mapping[str, Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    """Aggregate a study's records and write its report files atomically (`specs`: each dataset's evaluate
    section, for the column headers and order); `metrics` is the folder of the headline files."""
    ref = paper_reference(study)
    records = load_records(eval_paths)
    trained = {tuple(r[k] for k in ID_COLUMNS): r for r in map(read_json, train_paths)}
    keys = [tuple(row) for row in records[list(ID_COLUMNS)].itertuples(index=False)]
    for field, metric in TRAIN_METRICS.items():
        values = [trained.get(k, {}).get(field) for k in keys]
        if any(v is not None for v in values):
            records[metric.pattern] = values
    hidden = ref.get("not_comparable", {})
    table = summarise(
        records,
        {
            d: {v: {m: x for m, x in row.items() if m not in hidden} for v, row in rows.items()}
            for d, rows in ref.items()
            if d not in ("source", "claims", "controls", "not_comparable")
        },
        paper_dataset,
    )
    with atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    write_text(markdown(table, study, source_text(study), specs), md)
    write_headline(table, headline_metrics(ref.get("claims", [])), metrics)
    with atomic_path(curves_csv) as tmp:
        curves(train_paths).to_csv(tmp, index=False, float_format="%.6g")
    return table
