"""A card per checkpoint: one page (Markdown and HTML) with a model's robustness, calibration and
interpretability scores, each placed among the other models of its dataset in the atlas, and where the
model came from (trained with which recipe, or imported from which file with which sha256)."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.io import read_json, write_text
from irbench.tables import describe, is_fraction, md_table

HEADLINE = ("acc_clean", "confidence_clean", "ece_clean")


def card_name(dataset: str, variant: str, seed: int) -> str:
    """A card's file name without its suffix."""
    return f"{dataset}_{variant}_seed{seed}"


def card_paths(cards: str | Path, dataset: str, variant: str, seed: int) -> tuple[Path, Path]:
    """(Markdown, HTML) of one model's card."""
    base = Path(cards) / card_name(dataset, variant, seed)
    return base.with_suffix(".md"), base.with_suffix(".html")


def standing(value: float, others: Sequence[float], higher_is_better: bool | None) -> str:
    """Where `value` stands among the other models: its rank (1 = best, or highest without a direction)
    and how many of the others it beats."""
    rest = [v for v in others if math.isfinite(v)]
    if not math.isfinite(value) or not rest:
        return ""
    sign = -1.0 if higher_is_better is False else 1.0
    beaten = sum(sign * value > sign * v for v in rest)
    rank = 1 + sum(sign * v > sign * value for v in rest)
    word = "beats" if higher_is_better is not None else "above"
    return f"{rank} of {len(rest) + 1} ({word} {beaten} of {len(rest)})"


def _value(metric: str, v: float) -> str:
    if not math.isfinite(v):
        return ""
    return f"{100 * v:.1f}%" if is_fraction(metric) else f"{v:.3g}"


def provenance(train: Mapping[str, Any]) -> list[str]:
    """Where the model came from, in lines."""
    spec = train.get("spec", {})
    model = spec.get("model", {})
    arch = ", ".join(f"{k} {v}" for k, v in model.items())
    imported = train.get("imported")
    if imported:
        return [
            f"imported: {imported['source']}",
            f"file: {imported['path']}",
            f"sha256: {imported['sha256']} ({'checked' if imported['checked'] else 'recorded, not checked'})",
            f"model: {arch}",
            f"import check: {100 * imported['acc_check']:.1f}% on the first {imported['n_check']} test "
            "images",
        ]
    attack = spec.get("attack") or {}
    recipe = spec.get("train", {})
    lines = [f"trained by irbench: objective {spec.get('objective')}", f"model: {arch}"]
    if attack:
        lines.append("training attack: " + ", ".join(f"{k} {v}" for k, v in attack.items()))
    lines.append(
        f"recipe: {recipe.get('epochs')} epochs, {recipe.get('optimizer')} lr {recipe.get('lr')}, "
        f"batch {recipe.get('batch_size')}; best epoch {train.get('best_epoch')}"
    )
    return lines


def card_rows(row: pd.Series, models: pd.DataFrame, scores: Sequence[tuple[str, str]], robust: str) -> list:
    """(what, value, standing) rows of one card: the headline metrics, worst-case robust accuracy, then
    each atlas score."""
    out = []
    wanted = [(m, describe(m).header(m)) for m in HEADLINE if m in models]
    wanted += [("worst_case_robust", "worst-case robust accuracy")] + list(scores)
    for metric, header in wanted:
        col = robust if metric == "worst_case_robust" else metric
        values = models[col].to_numpy(float)
        mine = float(row[col]) if pd.notna(row[col]) else math.nan
        others = [v for i, v in zip(models.index, values, strict=True) if i != row.name]
        better = True if metric == "worst_case_robust" else describe(metric).higher_is_better
        out.append(
            (
                header,
                _value(col if metric != "worst_case_robust" else "acc_clean", mine),
                standing(mine, others, better),
            )
        )
    return out


def write_cards(
    study: str,
    table: pd.DataFrame,
    trains: Sequence[str | Path],
    rows: Sequence[Any],
    cards: str | Path,
    specs: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write every model's card under `cards`; returns the Markdown paths."""
    from irbench.atlas import robust_metrics

    trained = {}
    for path in trains:
        rec = read_json(path)
        trained[(rec["dataset"], rec["variant"], rec["seed"])] = rec
    written = []
    for dataset, models in table.groupby("dataset", sort=False):
        models = models.copy()
        robust = robust_metrics([c for c in models.columns if models[c].notna().any()])
        models["worst_case_robust"] = models[robust].min(axis=1) if robust else math.nan
        scores = [(r.score, r.header) for r in rows if r.dataset == dataset]
        for _, row in models.iterrows():
            key = (row["dataset"], row["variant"], int(row["seed"]))
            title = f"{study} {dataset} {row['variant']} seed {row['seed']}"
            body = card_rows(row, models, scores, "worst_case_robust")
            prov = provenance(trained.get(key, {}))
            md_path, html_path = card_paths(cards, *key)
            n = len(models)
            md = [f"# {title}", "", *[f"- {p}" for p in prov], "", f"Among the {n} models of {dataset}:", ""]
            md += [md_table(["score", "value", "rank (1 = best)"], [list(b) for b in body])]
            if isinstance(row.get("fallbacks"), str) and row["fallbacks"]:
                md += ["", f"Probes served by a fallback: {row['fallbacks']}"]
            write_text("\n".join(md) + "\n", md_path)
            write_text(_html(title, prov, body, n, dataset, row.get("fallbacks")), html_path)
            written.append(md_path)
    return written


def _html(
    title: str, prov: Sequence[str], body: Sequence[tuple], n: int, dataset: str, fallbacks: Any
) -> str:
    esc = html.escape
    cells = "".join("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in b) + "</tr>" for b in body)
    extra = (
        f"<p>Probes served by a fallback: {esc(fallbacks)}</p>"
        if isinstance(fallbacks, str) and fallbacks
        else ""
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title></head><body>"
        f"<h1>{esc(title)}</h1><ul>{''.join(f'<li>{esc(p)}</li>' for p in prov)}</ul>"
        f"<p>Among the {n} models of {esc(dataset)}:</p><table border='1'><tr><th>score</th><th>value</th>"
        f"<th>rank (1 = best)</th></tr>{cells}</table>{extra}</body></html>\n"
    )
