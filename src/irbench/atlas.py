"""The atlas: robustness against interpretability across every model of a dataset (its variants, seeds and
imported checkpoints together), not one pair. For each interpretability score: Spearman's rank correlation
with worst-case robust accuracy over the models, with a bootstrap interval over models; the same with clean
accuracy partialled out (robust models are less accurate and less confident, and both move attribution
scores); its correlation with the models' confidence; and, where the models were adversarially trained at
three or more eps, the dose-response: its Spearman trend against the training eps, with a p-value.

One row per model comes from the records (`model_rows`); `associations` computes the table, `write_atlas`
writes it (CSV, Markdown), one figure per dataset and the models' cards (irbench.cards)."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from irbench.errors import IrbenchError
from irbench.io import read_json, write_text
from irbench.records import ID_COLUMNS
from irbench.tables import Column, columns, md_table

SCORE_GROUPS = ("attribution", "sanity", "visual", "bottleneck")
BASELINE_ROWS = ("random_", "edge_")  # the baselines the methods are read against, not scores of a model
MODEL_COLUMNS = ("source", "dose", "fallbacks")  # a model's columns besides its ids and metrics


@dataclass(frozen=True)
class AtlasSettings:
    """`atlas` in params.yaml."""

    min_models: int = 5
    n_bootstrap: int = 2000
    seed: int = 0

    @classmethod
    def of(cls, cfg: Mapping[str, Any] | None) -> AtlasSettings:
        return cls(**dict(cfg or {}))


@dataclass(frozen=True)
class Association:
    """One interpretability score against robustness across one dataset's models."""

    dataset: str
    score: str
    header: str
    n_models: int
    rho: float
    rho_low: float
    rho_high: float
    partial: float  # clean accuracy partialled out
    partial_low: float
    partial_high: float
    rho_confidence: float
    dose_rho: float  # Spearman against the training eps (nan: fewer than three eps)
    dose_p: float


def training_dose(spec: Mapping[str, Any]) -> float | None:
    """A model's adversarial-training eps: its training attack's eps, 0 for standard training, None for an
    imported checkpoint or another objective (no dose)."""
    if spec.get("checkpoint"):
        return None
    if spec.get("attack"):
        return float(spec["attack"]["eps"])
    return 0.0 if spec.get("objective") == "standard" else None


def model_rows(evals: Sequence[str | Path], trains: Sequence[str | Path]) -> pd.DataFrame:
    """One row per model: ids, every metric, `source` (trained or imported), `dose` (training eps)."""
    specs = {}
    for path in trains:
        rec = read_json(path)
        specs[(rec["dataset"], rec["variant"], rec["seed"])] = rec
    rows = []
    for path in evals:
        rec = read_json(path)
        train = specs.get((rec["dataset"], rec["variant"], rec["seed"]), {})
        spec = train.get("spec", {})
        rows.append(
            {
                **{k: rec[k] for k in ID_COLUMNS},
                **rec["metrics"],
                "source": "imported" if spec.get("checkpoint") else "trained",
                "dose": training_dose(spec),
                "fallbacks": "; ".join(f"{f['probe']}: {f['how']}" for f in rec.get("fallbacks", [])),
            }
        )
    return pd.DataFrame(rows)


def robust_metrics(names: Sequence[str]) -> list[str]:
    """The attacked-accuracy columns whose minimum is a model's worst-case robust accuracy: AutoAttack's
    per-image worst case (`acc_robust_*`) where there, else the `attacks` probe's accuracies (the study's
    threat models, not the sweep's other eps); for regressors its attacked correlations."""
    from irbench.probes import metric_owner

    auto = [n for n in names if n.startswith("acc_robust_")]
    if auto:
        return auto
    out = []
    for n in names:
        try:
            probe, _, metric = metric_owner(n)
        except IrbenchError:  # a column no probe declares (a cost) is no attacked score
            continue
        if (
            probe is not None
            and probe.key == "attacks"
            and metric.higher_is_better
            and n.startswith(("acc_", "corr_"))
        ):
            out.append(n)
    return out


def score_columns(names: Sequence[str], specs: Mapping[str, Any] | None = None) -> list[Column]:
    """The interpretability scores among `names`: the attribution, sanity, visualisation and bottleneck
    metrics, less the baselines they are read against."""
    return [
        c for c in columns(names, specs) if c.group in SCORE_GROUPS and not c.metric.startswith(BASELINE_ROWS)
    ]


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson's r of each row of `a` with the same row of `b` (nan where a row is constant)."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, (a * b).sum(axis=1) / np.where(den > 1e-12, den, 1.0), np.nan)


def spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair (ranks with ties averaged; nan where a row is constant)."""
    return _pearson_rows(stats.rankdata(a, axis=1), stats.rankdata(b, axis=1))


def partial_rows(a: np.ndarray, b: np.ndarray, control: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row pair with `control` partialled out: the Pearson correlation of their
    ranks' residuals after a linear fit on the control's ranks."""
    ra, rb, rc = (stats.rankdata(v, axis=1) for v in (a, b, control))
    rc = rc - rc.mean(axis=1, keepdims=True)
    var = (rc * rc).sum(axis=1, keepdims=True)
    safe = np.where(var > 0, var, 1.0)

    def residual(r: np.ndarray) -> np.ndarray:
        r = r - r.mean(axis=1, keepdims=True)
        return r - rc * np.where(var > 0, (r * rc).sum(axis=1, keepdims=True) / safe, 0.0)

    return _pearson_rows(residual(ra), residual(rb))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (nan where either is constant)."""
    return float(spearman_rows(a[None], b[None])[0])


def partial_spearman(a: np.ndarray, b: np.ndarray, control: np.ndarray) -> float:
    """Spearman's correlation of `a` and `b` with `control` partialled out."""
    return float(partial_rows(a[None], b[None], control[None])[0])


def bootstrap(rows_fn, arrays: Sequence[np.ndarray], n: int, rng: np.random.Generator) -> tuple[float, float]:
    """The 95% percentile interval of `rows_fn` (spearman_rows, partial_rows) over `n` resamplings of the
    models; nan where fewer than half the resamplings give a value (too many constant resamples)."""
    m = len(arrays[0])
    idx = rng.integers(0, m, size=(n, m))
    draws = rows_fn(*(a[idx] for a in arrays))
    finite = draws[np.isfinite(draws)]
    if len(finite) < n / 2:
        return math.nan, math.nan
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def dose_trend(score: np.ndarray, dose: np.ndarray) -> tuple[float, float]:
    """(Spearman rho, two-sided p) of a score against the training eps, over the models that have one;
    nan where fewer than three distinct eps."""
    keep = ~np.isnan(dose)
    if len(np.unique(dose[keep])) < 3 or np.ptp(score[keep]) == 0:
        return math.nan, math.nan
    res = stats.spearmanr(dose[keep], score[keep])
    return float(res.statistic), float(res.pvalue)


def associations(
    table: pd.DataFrame, settings: AtlasSettings, specs: Mapping[str, Any] | None = None
) -> tuple[list[Association], dict[str, str]]:
    """The atlas rows of every dataset with at least `min_models` models, and for the others why not."""
    out, skipped = [], {}
    for dataset, rows in table.groupby("dataset", sort=False):
        names = [c for c in rows.columns if c not in (*ID_COLUMNS, *MODEL_COLUMNS)]
        robust = robust_metrics([n for n in names if rows[n].notna().any()])
        clean = "acc_clean" if "acc_clean" in rows else "corr_clean"
        if not robust or clean not in rows:
            skipped[dataset] = "no attacked and clean accuracy in its records"
            continue
        worst = rows[robust].min(axis=1).to_numpy(float)
        if len(rows) < settings.min_models:
            skipped[dataset] = f"{len(rows)} models, fewer than atlas.min_models = {settings.min_models}"
            continue
        scores = score_columns([n for n in names if rows[n].notna().any()], specs)
        if not scores:
            skipped[dataset] = (
                "no interpretability scores in its records: no attributions, sanity, visualise or "
                "bottleneck probe"
            )
        for col in scores:
            have = rows[col.metric].notna().to_numpy() & np.isfinite(worst)
            if have.sum() < settings.min_models:
                continue
            s, r, c = rows[col.metric].to_numpy(float)[have], worst[have], rows[clean].to_numpy(float)[have]
            conf = rows["confidence_clean"].to_numpy(float)[have] if "confidence_clean" in rows else None
            dose = rows["dose"].to_numpy(float)[have]
            # each score's resamplings from its own stream: its interval does not depend on the others
            rng = np.random.default_rng([settings.seed, zlib.crc32(f"{dataset}/{col.metric}".encode())])
            lo, hi = bootstrap(spearman_rows, (s, r), settings.n_bootstrap, rng)
            plo, phi = bootstrap(partial_rows, (s, r, c), settings.n_bootstrap, rng)
            out.append(
                Association(
                    dataset=str(dataset),
                    score=col.metric,
                    header=f"{col.row} {col.header}" if col.row else col.header,
                    n_models=int(have.sum()),
                    rho=spearman(s, r),
                    rho_low=lo,
                    rho_high=hi,
                    partial=partial_spearman(s, r, c),
                    partial_low=plo,
                    partial_high=phi,
                    rho_confidence=spearman(s, conf) if conf is not None else math.nan,
                    dose_rho=dose_trend(s, dose)[0],
                    dose_p=dose_trend(s, dose)[1],
                )
            )
    return out, skipped


def _num(v: float, digits: int = 2) -> str:
    return "" if not math.isfinite(v) else f"{v:+.{digits}f}"


def _interval(lo: float, hi: float) -> str:
    return "" if not (math.isfinite(lo) and math.isfinite(hi)) else f"[{lo:+.2f}, {hi:+.2f}]"


def markdown(
    study: str, rows: Sequence[Association], skipped: Mapping[str, str], settings: AtlasSettings
) -> str:
    """The atlas as Markdown: one table per dataset, and the datasets left out with why."""
    lines = [
        f"# Atlas: {study}",
        "",
        "Each interpretability score against worst-case robust accuracy across the dataset's models "
        "(variants, seeds and imported checkpoints): Spearman's rho with a 95% bootstrap interval over "
        f"models ({settings.n_bootstrap} resamplings), the same with clean accuracy partialled out, rho "
        "against mean confidence, and the dose-response (rho against the adversarial-training eps, p "
        "two-sided) where three or more eps were trained.",
        "",
    ]
    for dataset in dict.fromkeys(r.dataset for r in rows):
        mine = [r for r in rows if r.dataset == dataset]
        head = [
            "score",
            "models",
            "rho (robust)",
            "95% CI",
            "partial rho (clean partialled out)",
            "95% CI",
            "rho (confidence)",
        ]
        has_dose = any(math.isfinite(r.dose_rho) for r in mine)
        head += ["rho (training eps)", "p"] if has_dose else []
        body = []
        for r in mine:
            row = [r.header, str(r.n_models), _num(r.rho), _interval(r.rho_low, r.rho_high), _num(r.partial)]
            row += [_interval(r.partial_low, r.partial_high), _num(r.rho_confidence)]
            row += (
                [_num(r.dose_rho), "" if not math.isfinite(r.dose_p) else f"{r.dose_p:.3g}"]
                if has_dose
                else []
            )
            body.append(row)
        lines += [f"## {dataset}", "", md_table(head, body), ""]
    for dataset, why in skipped.items():
        lines.append(f"- {dataset}: no atlas ({why}).")
    return "\n".join(lines).rstrip() + "\n"


def write_atlas(
    study: str,
    evals: Sequence[str | Path],
    trains: Sequence[str | Path],
    settings: AtlasSettings,
    *,
    csv: str | Path,
    md: str | Path,
    figures: Mapping[str, str | Path],
    cards: str | Path,
    specs: Mapping[str, Any] | None = None,
) -> list[Association]:
    """The atlas of one study: table (CSV, Markdown), a figure per dataset, a card per model."""
    from irbench.cards import write_cards
    from irbench.figures import atlas_figure

    table = model_rows(evals, trains)
    rows, skipped = associations(table, settings, specs)
    frame = pd.DataFrame([asdict(r) for r in rows], columns=list(Association.__dataclass_fields__))
    write_text(frame.to_csv(index=False), csv)
    write_text(markdown(study, rows, skipped, settings), md)
    for dataset, path in figures.items():
        mine = table[table["dataset"] == dataset]
        scored = [r for r in rows if r.dataset == dataset]
        atlas_figure(mine, scored, robust_metrics(list(mine.columns)), path, f"{study} {dataset}: atlas")
    write_cards(study, table, trains, rows, cards, specs)
    return rows
