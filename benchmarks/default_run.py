"""Benchmark: wall time of the default configuration (params.yaml as shipped) on this machine.

Runs the whole DAG from nothing in a temporary copy of the workflow, prints the wall time as a ratio
against the named baseline (the 25-minute budget for the default run on a 2-core CPU; the target is at most
half of it, 0.5, so that slower machines of the kind fit within it), and checks that the default decides
what its data plant: the planted effects' claims (robust beats standard under L2-PGD; A2E beats the linear
baseline) read "holds", every study's controls pass (the negative control inconclusive, the positive ones
found), with at least 5 seeds. Writes results/run.md (wall time, cores, commit), which the README's
generated blocks quote.
Usage: .venv/bin/python benchmarks/default_run.py [--keep DIR] [--readme]
  --keep DIR: copy results/ to DIR; --readme: rewrite the README's result blocks from this run, and
  report/default_run.json, their numbers, that the report of a run of the same configuration compares with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from irbench.io import write_text
from irbench.readme import rewrite_all

ROOT = Path(__file__).resolve().parents[1]
# target on 2 CPU cores: the whole default run (three studies, three seeds) within 25 minutes
BASELINE_S = 1500.0
TARGET_RATIO = 0.5
# (study, metric, better, worse) of the claims on effects the synthetic data plant: they must hold
PLANTED = [("vision", "acc_l2_pgd", "l2_robust", "standard"), ("mer", "corr_clean", "A2E", "linear")]


def publish_numbers(results: Path, commit: str) -> None:
    """Write report/default_run.json, the README blocks' numbers that the report of a run of the same
    configuration compares itself with (irbench.published)."""
    from irbench.config import load_yaml, resolve
    from irbench.machine import cpu_model
    from irbench.published import PUBLISHED, run_fingerprint, save, snapshot

    fingerprint = run_fingerprint(resolve(load_yaml(ROOT / "params.yaml")))
    save(snapshot(results, fingerprint, commit, f"{cpu_model()}, {os.cpu_count()} cores"), ROOT / PUBLISHED)


def decided(results: Path) -> bool:
    """Print the planted effects' verdicts and every study's control failures; True if all are as planted."""
    from irbench.claims import HOLDS, control_failures, evaluate_claims, evaluate_controls
    from irbench.records import load_records
    from irbench.tables import paper_reference

    ok = True
    for study in ("vision", "mer", "lime"):
        paths = sorted((results / study / "eval").glob("*/*/seed*.json"))
        if not paths:
            continue
        records = load_records(paths)
        ref = paper_reference(study)
        seeds = records["seed"].nunique()
        claims = evaluate_claims(records, study, ref["claims"])
        for c in claims:
            if (study, c.metric, c.better, c.worse) in PLANTED:
                print(f"planted: {study} {c.claim}: {c.verdict} (n {c.n_pairs})")
                ok &= c.verdict == HOLDS
        controls = evaluate_controls(
            records, study, ref["claims"], ref.get("controls", {}).get("positive", [])
        )
        failures = control_failures(controls)
        print(
            f"controls: {study}: {len(controls)} run, {seeds} seeds: " + ("; ".join(failures) or "all passed")
        )
        ok &= not failures and seeds >= 5
    return ok


# the workflow's files, one list for this benchmark and the end-to-end tests
FILES = [
    ln
    for ln in (ROOT / "tests" / "configs" / "workflow_files.txt").read_text().splitlines()
    if ln.strip() and not ln.startswith("#")
]


def main() -> int:
    keep = Path(sys.argv[sys.argv.index("--keep") + 1]) if "--keep" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="irbench-bench-") as tmp:
        work = Path(tmp)
        for name in FILES:
            src, dst = ROOT / name, work / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("MLFLOW_TRACKING_URI", None)
        t0 = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).parent / "snakemake"), "--profile", "profiles/local", "--quiet"],
            cwd=work,
            env=env,
            check=True,
        )
        wall = time.perf_counter() - t0
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        write_text(
            "Default configuration (`params.yaml` as shipped), all studies, from nothing: "
            f"{wall:.0f} s wall time on {os.cpu_count()} CPU cores ({wall / BASELINE_S:.2f} of the "
            f"{BASELINE_S / 60:.0f}-minute budget), commit {commit}"
            f"{' with uncommitted changes' if dirty else ''}, `benchmarks/default_run.py`.\n",
            work / "results/run.md",
        )
        if "--readme" in sys.argv:
            rewrite_all(ROOT, work / "results")
            publish_numbers(work / "results", commit)
        table = pd.read_csv(work / "results/tables/vision.csv").set_index("variant")
        for study in ("vision", "mer", "lime"):
            if (work / f"results/tables/{study}.md").exists():
                print((work / f"results/tables/{study}.md").read_text())
        print(
            "\n".join(ln for ln in (work / "results/report.md").read_text().splitlines() if "|" in ln[:2])[
                :4000
            ]
        )
        if keep is not None:
            shutil.copytree(work / "results", keep, dirs_exist_ok=True)
        planted_ok = decided(work / "results")
    std, rob = table.loc["standard"], table.loc["l2_robust"]
    print(f"cores: {os.cpu_count()}  default run wall time: {wall:.0f} s")
    print(
        f"ratio wall / baseline (25-minute budget for the default run, {BASELINE_S:.0f} s): "
        f"{wall / BASELINE_S:.2f}"
    )
    clean_ok = std["acc_clean_mean"] > rob["acc_clean_mean"]
    pgd_ok = rob["acc_l2_pgd_mean"] > std["acc_l2_pgd_mean"] + 0.2
    print(f"pattern: standard clean > robust clean: {clean_ok}; robust L2-PGD >> standard: {pgd_ok}")
    print(
        f"target: ratio <= {TARGET_RATIO}: {wall / BASELINE_S <= TARGET_RATIO}; "
        f"planted effects decided: {planted_ok}"
    )
    return 0 if wall <= TARGET_RATIO * BASELINE_S and pgd_ok and planted_ok else 1


if __name__ == "__main__":
    sys.exit(main())
