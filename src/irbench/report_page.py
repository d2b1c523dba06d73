"""results/report.html and its Markdown twin: every study's claims with verdicts, tables, figures,
provenance (configuration hash, git commit, package versions) and the time of every job.

The claims come first, so one screen tells which held. The HTML embeds its figures (one file to share);
the Markdown links them relative to results/.
"""

from __future__ import annotations

import base64
import html
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from irbench.claims import (
    AT_CHANCE,
    EVAL_FAILED,
    FAILS,
    FAMILY_WORDS,
    HOLDS,
    TOO_WEAK,
    VERDICT_WORDS,
    ClaimResult,
    control_failures,
    evaluate_claims,
    evaluate_controls,
)
from irbench.io import read_json, write_text
from irbench.power import MAX_SEEDS
from irbench.published import Published, compare, comparison_lines
from irbench.records import load_records
from irbench.tables import column_legend, is_fraction, md_table, paper_reference, source_text, table_sections

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "pandas",
    "captum",
    "lime",
    "snakemake",
    "mlflow",
    "dvc",
)
VERDICT_COLOURS = {
    HOLDS: "#d4edda",
    FAILS: "#f8d7da",
    EVAL_FAILED: "#e2e3e5",
    TOO_WEAK: "#e2e3e5",
    AT_CHANCE: "#e2e3e5",
}


@dataclass
class StudyInputs:
    """What the report shows of one study: its summary table, records and figures."""

    table_csv: str | os.PathLike
    records: Sequence[str | os.PathLike]  # evaluation and interpretation records (metrics per seed)
    train_records: Sequence[str | os.PathLike]
    figures: Sequence[str | os.PathLike] = field(default_factory=list)
    specs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # evaluate section per dataset
    captions: Mapping[str, str] = field(default_factory=dict)  # figure path -> caption
    atlas: str | os.PathLike | None = None  # the atlas folder (results/atlas/<study>: figures, cards/)


def fallback_lines(records: Sequence[str | os.PathLike]) -> list[str]:
    """The probes each variant's model was served by a fallback for, and how (one line each)."""
    seen: dict[str, None] = {}
    for path in records:
        rec = read_json(path)
        for f in rec.get("fallbacks", []):
            seen[f"{rec['dataset']} {rec['variant']}: {f['probe']} without {f['capability']}: {f['how']}"] = (
                None
            )
    return list(seen)


def atlas_section(study: str, folder: str | os.PathLike, md_dir: Path) -> tuple[list[str], list[str]]:
    """The study's atlas (results/atlas/<study>.md's tables, its figures) and links to the models' cards:
    (HTML parts, Markdown lines)."""
    folder = Path(folder)
    text = Path(f"{folder}.md").read_text() if Path(f"{folder}.md").is_file() else ""
    body = text.split("\n", 1)[1] if text else ""
    h = [f"<h3>Atlas: robustness against interpretability across {html.escape(study)}'s models</h3>"]
    h.append(f"<pre>{html.escape(body.strip())}</pre>")
    md = [f"### Atlas: robustness against interpretability across {study}'s models", "", body.strip(), ""]
    for png in sorted(folder.glob("*.png")):
        h.append(
            _img(png, f"{study} {png.stem}: each score against worst-case robust accuracy, a point per model")
        )
        md += [f"![atlas {png.stem}]({os.path.relpath(png.resolve(), md_dir)})", ""]
    cards = sorted((folder / "cards").glob("*.html"))
    if cards:
        links = ", ".join(
            f"<a href='{html.escape(os.path.relpath(c.resolve(), md_dir))}'>{html.escape(c.stem)}</a>"
            for c in cards
        )
        h.append(f"<p>Model cards: {links}</p>")
        md += [
            "Model cards: "
            + ", ".join(
                f"[{c.stem}]({os.path.relpath(c.with_suffix('.md').resolve(), md_dir)})" for c in cards
            ),
            "",
        ]
    return h, md


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of the packages results depend on ('not installed' where absent)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def job_times(
    study: str, records: Sequence[str | os.PathLike], train: Sequence[str | os.PathLike]
) -> pd.DataFrame:
    """One row per job: stage, dataset, variant, seed, device, wall seconds and the machine it ran on."""
    rows = []
    for p in train:
        r = read_json(p)
        rows.append(
            {
                "stage": "train",
                "device": r.get("device", "cpu"),
                **_ids(r),
                "wall_s": r.get("wall_s"),
                "machine": _machine(r),
            }
        )
    for p in records:
        r = read_json(p)
        rows.append(
            {
                "stage": "evaluate",
                "device": r.get("device", "cpu"),
                **_ids(r),
                "wall_s": r.get("wall_s"),
                "machine": _machine(r),
            }
        )
    df = pd.DataFrame(rows)
    df.insert(0, "study", study)
    return df


def _machine(r: Mapping[str, Any]) -> str:
    """What a job ran on, from its file's `machine` (irbench.machine): the GPU and its driver or the CPU
    model, the cores, torch's build."""
    m = r.get("machine") or {}
    if not m:
        return "not recorded"
    build = f"torch {m.get('torch')}" + (f" (CUDA {m['torch_cuda']})" if m.get("torch_cuda") else "")
    where = (
        f"{m['gpu']} ({m.get('nvidia_driver') or 'driver not recorded'})" if m.get("gpu") else m.get("cpu")
    )
    return f"{where}, {m.get('cpu_count')} cores, {build}"


def _ids(r: Mapping[str, Any]) -> dict[str, Any]:
    return {k: r[k] for k in ("dataset", "variant", "seed")}


def study_claims(study: str, inputs: StudyInputs) -> list[ClaimResult]:
    """The study's claims (from reference.yaml) tested on its per-seed records, primary ones first."""
    claims = evaluate_claims(load_records(inputs.records), study, paper_reference(study).get("claims", []))
    return sorted(claims, key=lambda c: c.family != "primary")


def study_controls(study: str, inputs: StudyInputs) -> list[ClaimResult]:
    """The study's negative controls (its primary claims' variants against themselves) and positive
    controls (reference.yaml `controls.positive`)."""
    ref = paper_reference(study)
    positive = ref.get("controls", {}).get("positive", [])
    return evaluate_controls(load_records(inputs.records), study, ref.get("claims", []), positive)


def trust_lines(controls: Mapping[str, Sequence[ClaimResult]]) -> list[str]:
    """One line per study: its controls behaved, or its verdicts are not to be trusted and why."""
    lines = []
    for study, cs in controls.items():
        failed = control_failures(cs)
        if not cs:
            lines.append(f"{study}: no controls could be formed (too few seeds or no planted data).")
        elif failed:
            lines.append(
                f"**{study}: every verdict is NOT TRUSTWORTHY**: a control failed ({'; '.join(failed)})."
            )
        else:
            n_neg = sum(c.family == "negative control" for c in cs)
            n_pos = len(cs) - n_neg
            lines.append(
                f"{study}: controls passed ({n_neg} negative inconclusive as they must be, {n_pos} positive "
                "found)."
            )
    return lines


def effect_units(metric: str) -> tuple[float, str]:
    """How a claim's differences are shown: percent metrics in percentage points, others as stored."""
    return (100.0, " pp") if is_fraction(metric) else (1.0, "")


def _detectable(c: ClaimResult, scale: float, unit: str) -> str:
    """The smallest effect the claim's test finds at 80% power, in the claim's units and standardised."""
    if c.power is None:
        return ""
    d = c.power.detectable_d
    if d == float("inf"):
        return "none (n < 2)"
    units = c.power.detectable_effect
    shown = "" if pd.isna(units) else f"{scale * units:.3g}{unit} = "
    return f"{shown}d {d:.2g} (Holm over {c.power.family_size})"


def _claims_frame(claims: Sequence[ClaimResult]) -> pd.DataFrame:
    rows = []
    for c in claims:
        scale, unit = effect_units(c.metric)
        interval = "" if pd.isna(c.ci_low) else f"[{scale * c.ci_low:+.3g}, {scale * c.ci_high:+.3g}]{unit}"
        needed = ""
        if c.power is not None and c.power.observed_d == c.power.observed_d:  # not nan: there is a spread
            needed = c.power.seeds_needed or f"> {MAX_SEEDS}"
        rows.append(
            {
                "study": c.study,
                "family": c.family,
                "dataset": c.dataset,
                "claim": c.claim,
                "metric": c.metric,
                "n": c.n_pairs,
                "per-seed differences": ", ".join(f"{scale * d:+.3g}" for d in c.diffs) + unit,
                "effect (claim direction)": f"{scale * c.mean_diff:+.3g}{unit}",
                "95% t interval": interval,
                "p (Holm)": "" if pd.isna(c.p_holm) else f"{c.p_holm:.3g}",
                "detectable (80% power)": _detectable(c, scale, unit),
                "seeds needed": needed,
                "verdict": c.verdict,
                "notes": "; ".join(c.notes),
            }
        )
    return pd.DataFrame(rows)


def gate_summary(study: str, records: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Per model and seed, the gates it failed (with why) or a count of those it passed: the table under
    each study in the report."""
    rows = []
    for p in records:
        r = read_json(p)
        gates = {k[len("gate_") :]: v for k, v in r.get("metrics", {}).items() if k.startswith("gate_")}
        if not gates:
            continue
        failed = [g for g, ok in gates.items() if ok < 1]
        why = "; ".join(f"{g}: {_short(r.get('gates', {}).get(g))}" for g in failed)
        rows.append(
            {
                "study": study,
                **_ids(r),
                "passed": f"{len(gates) - len(failed)}/{len(gates)}",
                "failed": why or "none",
            }
        )
    return pd.DataFrame(rows)


SANITY_TESTS = {"mprt_all": "every layer re-initialised", "random_logit": "a random other class"}


def sanity_flags(
    study: str, records: Sequence[str | os.PathLike], limit: float | None = None
) -> pd.DataFrame:
    """Per model, the attribution methods whose maps barely change when the model is randomised or the
    class is swapped (mean rank correlation over seeds above `limit`, irbench.probes.sanity)."""
    from irbench.probes.sanity import BARELY_CHANGES

    limit = BARELY_CHANGES if limit is None else limit
    df = load_records(records)
    rows = []
    for col in df.columns:
        test = next((t for t in SANITY_TESTS if col.endswith(f"_{t}")), None)
        if test is None:
            continue
        for (dataset, variant), value in df.groupby(["dataset", "variant"], sort=False)[col].mean().items():
            if value > limit:
                flag = (
                    f"maps barely change with {SANITY_TESTS[test]} (rank correlation {value:.2f} > {limit:g})"
                )
                method = col[: -len(test) - 1]
                rows.append(
                    {"study": study, "dataset": dataset, "variant": variant, "method": method, "flag": flag}
                )
    return pd.DataFrame(rows)


def _short(detail: Any, limit: int = 240) -> str:
    text = str(detail)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def setting_lines(setting: Mapping[str, Any]) -> list[str]:
    """What the verdicts rest on, stated above them: scale, data (synthetic or real), seeds per study."""
    lines = [f"Scale: **{setting.get('scale', 'quick')}**."]
    if setting.get("scale_overridden"):
        lines.append(
            f"Your configuration replaced these keys of the scale: {', '.join(setting['scale_overridden'])}."
        )
    for study, s in setting.get("studies", {}).items():
        data = ", ".join(
            f"{d} ({'synthetic, generated by irbench' if info['synthetic'] else info['kind']})"
            for d, info in s["datasets"].items()
        )
        lines.append(f"{study}: {len(s['seeds'])} seeds ({', '.join(map(str, s['seeds']))}); data: {data}.")
    return lines


def verdict_lines() -> list[tuple[str, str]]:
    """(word, meaning) for every verdict word and note the claims table uses."""
    return list(VERDICT_WORDS.items())


def family_lines() -> list[tuple[str, str]]:
    """(family, meaning) for the claims' and controls' families."""
    return list(FAMILY_WORDS.items())


def _html_table(df: pd.DataFrame, verdict_column: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for _, row in df.iterrows():
        style = ""
        if verdict_column:
            style = f' style="background:{VERDICT_COLOURS.get(row[verdict_column], "#fff3cd")}"'
        cells = "".join(f"<td>{html.escape('' if pd.isna(v) else str(v))}</td>" for v in row)
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _md_table(df: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "|".join(["---"] * len(df.columns)) + "|"]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |")
    return "\n".join(lines)


def _img(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    alt = html.escape(path.stem.replace("_", " "))
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:110em}
table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.85em}
td,th{border:1px solid #ccc;padding:3px 6px}
th{background:#f0f0f0}figure{margin:1em 0}img{max-width:100%}figcaption{font-size:0.8em;color:#555}"""


def build_report(
    studies: Mapping[str, StudyInputs],
    *,
    html_path: str | os.PathLike,
    md_path: str | os.PathLike,
    config_hash: str,
    git_commit: str,
    run_setting: Mapping[str, Any] | None = None,
    published: Published | None = None,
    fingerprint: str = "",
) -> list[ClaimResult]:
    """Write report.html and report.md (atomically) for the given studies; return the tested claims.
    `run_setting` (irbench.config.run_setting) is stated above the claims; `published`, the README's
    default run, is compared with where this run's `fingerprint` (irbench.published.run_fingerprint) is
    the same."""
    claims = [c for study, inputs in studies.items() for c in study_claims(study, inputs)]
    controls = {study: study_controls(study, inputs) for study, inputs in studies.items()}
    claims_df = _claims_frame(claims)
    controls_df = _claims_frame([c for cs in controls.values() for c in cs])
    times = pd.concat(
        [job_times(s, i.records, i.train_records) for s, i in studies.items()], ignore_index=True
    )
    versions = package_versions()
    md_dir = Path(md_path).resolve().parent

    h = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>irbench report</title><style>{CSS}</style>"
    ]
    h.append("</head><body><h1>irbench report</h1>")
    md = ["# irbench report", ""]
    summary = (
        ", ".join(f"{n} {v}" for v, n in claims_df["verdict"].value_counts().items()) if len(claims) else ""
    )
    setting = setting_lines(run_setting or {}) + trust_lines(controls)
    how = (
        f"Claims tested: {len(claims)} ({summary}). Each claim pairs the two variants by seed; the "
        "differences are oriented so that positive favours the claim (percent metrics in percentage points, "
        "pp); the interval is a two-sided 95% Student t interval of their mean and p the paired t-test's, "
        "Holm-adjusted within each study's primary claims and, separately, within its secondary ones. "
        "'detectable' is the smallest effect the test finds 80% of the time at the run's seeds, at the "
        "observed spread (d: mean / sd of the differences; at Holm's strictest level, alpha / family size); "
        "'seeds needed': the seeds the observed effect would need for that power."
    )
    h.append("<p>" + "<br>".join(html.escape(x.replace("**", "")) for x in setting) + "</p>")
    h.append(f"<p>{html.escape(how)}</p>")
    words = "".join(
        f"<li><b>{html.escape(w)}</b>: {html.escape(t)}</li>" for w, t in verdict_lines() + family_lines()
    )
    h.append(f"<details open><summary>What the verdicts mean</summary><ul>{words}</ul></details>")
    md += setting + ["", how, "", "What the verdicts mean:", ""]
    md += [f"- **{w}**: {t}" for w, t in verdict_lines() + family_lines()] + [""]
    if len(claims):
        h.append("<h2>Claims</h2>" + _html_table(claims_df, "verdict"))
        md += ["## Claims", "", _md_table(claims_df), ""]
    if len(controls_df):
        h.append("<h2>Controls</h2>" + _html_table(controls_df, "verdict"))
        md += ["## Controls", "", _md_table(controls_df), ""]
    for study, inputs in studies.items():
        table = pd.read_csv(inputs.table_csv)
        source = source_text(study)
        h.append(f"<h2>{html.escape(study)}: mean ± std over seeds</h2>")
        md += [f"## {study}: mean ± std over seeds", ""]
        for title, head, rows in table_sections(table, inputs.specs):
            h.append(f"<h3>{html.escape(title)}</h3>" + _html_table(pd.DataFrame(rows, columns=head)))
            md += [f"### {title}", "", md_table(head, rows), ""]
        if source:
            h.append(f"<p><small>Paper numbers: {html.escape(source)}</small></p>")
            md += [f"Paper numbers: {source}", ""]
        gates = gate_summary(study, inputs.records)
        if len(gates):
            n_failed = int((gates["failed"] != "none").sum())
            title = f"Gates: {n_failed} of {len(gates)} models failed one or more"
            h.append(f"<details{' open' if n_failed else ''}><summary>{html.escape(title)}</summary>")
            h.append(_html_table(gates) + "</details>")
            md += [f"{title}:", "", _md_table(gates), ""]
        flags = sanity_flags(study, inputs.records)
        if len(flags):
            title = f"Sanity checks: {len(flags)} flags, maps that barely depend on the model or the class"
            h.append(f"<p><b>{html.escape(title)}</b></p>" + _html_table(flags))
            md += [f"{title}:", "", _md_table(flags), ""]
        legend = column_legend(table, inputs.specs)
        items = "".join(f"<li><b>{html.escape(n)}</b>: {html.escape(t)}</li>" for n, t in legend)
        h.append(f"<details><summary>Columns</summary><ul>{items}</ul></details>")
        md += ["Columns:", ""] + [f"- {n}: {t}" for n, t in legend] + [""]
        for fig in inputs.figures:
            p = Path(fig)
            caption = inputs.captions.get(str(fig), p.stem.replace("_", " "))
            h.append(_img(p, caption))
            md += [f"![{p.stem}]({os.path.relpath(p.resolve(), md_dir)})", "", f"*{caption}*", ""]
        served = fallback_lines(inputs.records)
        if served:
            h.append("<p><b>Probes served by a fallback</b> (the model lacks what they call):</p><ul>")
            h.append("".join(f"<li>{html.escape(s)}</li>" for s in served) + "</ul>")
            md += ["Probes served by a fallback (the model lacks what they call):", ""]
            md += [f"- {s}" for s in served] + [""]
        if inputs.atlas is not None:
            ah, amd = atlas_section(study, inputs.atlas, md_dir)
            h += ah
            md += amd
    same = published is not None and published.fingerprint == fingerprint
    tables = {study: pd.read_csv(inputs.table_csv) for study, inputs in studies.items()}
    compared = compare(published, tables) if same else pd.DataFrame(columns=["within"])
    lines = comparison_lines(published, fingerprint, compared)
    if lines:
        outside = compared[~compared["within"].astype(bool)].drop(columns="within")
        outside = outside.round({"published": 4, "this run": 4, "difference": 4, "tolerance": 4})
        h.append("<h2>Against the README's numbers</h2><p>" + html.escape(lines[0]) + "</p>")
        md += ["## Against the README's numbers", "", lines[0], ""]
        if len(outside):
            h.append(f"<p>Outside the tolerance ({len(outside)}):</p>" + _html_table(outside))
            md += [f"Outside the tolerance ({len(outside)}):", "", _md_table(outside), ""]
    # where the jobs ran: the same seed and configuration give the same numbers on one machine, not across
    machines = [(f"jobs ran on ({n})", m) for m, n in times.pop("machine").value_counts().items()]
    prov = pd.DataFrame(
        [("configuration hash", config_hash), ("git commit", git_commit)] + list(versions.items()) + machines,
        columns=["what", "value"],
    )
    h.append("<h2>Provenance</h2>" + _html_table(prov))
    md += ["## Provenance", "", _md_table(prov), ""]
    jobs = times.assign(wall_s=times["wall_s"].round(1))
    title = (
        f"Jobs (sum of the jobs' wall times {times['wall_s'].sum():.0f} s: compute spent, not the run's "
        "elapsed time, which is shorter when jobs run in parallel)"
    )
    h.append(f"<h2>{html.escape(title)}</h2>" + _html_table(jobs))
    md += [f"## {title}", "", _md_table(jobs), ""]
    h.append("</body></html>")
    write_text("\n".join(h), html_path)
    write_text("\n".join(md), md_path)
    return claims
