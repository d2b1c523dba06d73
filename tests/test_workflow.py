"""End to end: the whole Snakemake DAG (and DVC) on a tiny configuration in a temporary directory."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import torch
import yaml

from .conftest import ROOT
from .services import local_slurm, mlflow_server, slurm_unavailable

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
WORKFLOW_FILES = ROOT / "tests" / "configs" / "workflow_files.txt"  # shared with benchmarks/default_run.py
PROJECT_FILES = [
    *(ln for ln in WORKFLOW_FILES.read_text().splitlines() if ln.strip() and not ln.startswith("#")),
    "src/irbench",
]
TINY_CONFIG = ROOT / "tests" / "configs" / "tiny.yaml"  # the tiny scale, every size shrunk


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env['PATH']}"
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(MLFLOW_DISABLE_TELEMETRY="true", DVC_NO_ANALYTICS="1")
    return env


def run(cwd: Path, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, env=env or _env())
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def smk(cwd: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return run(cwd, str(BIN / "snakemake"), "--profile", "profiles/local", "--cores", "2", *args, **kw)


def planned(cwd: Path, *args: str) -> dict[str, int]:
    """Job counts per rule that a dry run plans (empty when there is nothing to do)."""
    out = smk(cwd, *args, "-n", "--quiet", "rules")
    text = out.stdout + out.stderr
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", text, flags=re.M))
    counts.pop("total", None)
    return {k: int(v) for k, v in counts.items()}


def params(cwd: Path) -> dict:
    return yaml.safe_load((cwd / "params.yaml").read_text())


def write_params(cwd: Path, cfg: dict) -> None:
    (cwd / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def make_project(dest: Path) -> Path:
    for name in PROJECT_FILES:
        src, dst = ROOT / name, dest / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)
    cfg = yaml.safe_load((ROOT / "params.yaml").read_text())
    tiny = yaml.safe_load(TINY_CONFIG.read_text())
    cfg["scales"]["tiny"] = tiny["scales"]["tiny"]
    cfg["scale"] = tiny["scale"]
    cfg["seeds"] = tiny["seeds"]  # the job counts below are for two seeds
    write_params(dest, cfg)
    return dest


@pytest.fixture(scope="module")
def done(tmp_path_factory) -> Path:
    """A tiny project after one complete Snakemake run."""
    project = make_project(tmp_path_factory.mktemp("e2e") / "project")
    smk(project)
    return project


@pytest.fixture
def copy_of_done(done, tmp_path) -> Path:
    """An independent copy of the completed project (file times preserved)."""
    dest = tmp_path / "project"
    shutil.copytree(done, dest, symlinks=True)
    return dest


def test_tables_have_mean_std_per_variant_and_paper_columns(done):
    table = pd.read_csv(done / "results/tables/vision.csv")
    assert sorted(table["variant"]) == ["l2_robust", "standard"]
    assert (table["n_seeds"] == 2).all()
    for col in (
        "acc_clean_mean",
        "acc_clean_std",
        "acc_l2_pgd_mean",
        "paper_acc_clean",
        "paper_acc_l2_pgd",
        "ig_object_mass_mean",
        "shap_cue_mass_mean",
        "ig_object_mass_ratio_mean",
        "edge_cue_rank_acc_mean",
        "random_object_pointing_mean",
        "shap_mprt_all_mean",
        "ig_random_logit_mean",
        "fid_mean",
        "fid_real_mean",
        "inv_dist_mean",
        "paper_fid",
    ):
        assert col in table.columns
    assert "paper_inv_dist" not in table.columns  # another definition: not shown beside ours
    assert table["acc_clean_mean"].between(0, 1).all()
    md = (done / "results/tables/vision.md").read_text()
    assert "±" in md and "| L2-PGD eps 0.5 (%) | paper |" in md and "| FID | paper |" in md
    assert (
        "| L2-PGD eps 0.5 (%) |" in md.split("## Against the attack's strength")[1]
    )  # the sweep's L2 column
    headline = sorted(p.name for p in (done / "results/metrics/vision").glob("*.json"))
    assert headline == ["synthetic_shapes.l2_robust.json", "synthetic_shapes.standard.json"]
    for kind in ("attributions", "visualisations", "features"):
        figure = done / f"results/figures/vision_synthetic_shapes_{kind}_seed0.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    figure = done / "results/figures/vision_synthetic_shapes_robustness.png"  # accuracy against L2/L-inf eps
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curves = pd.read_csv(done / "results/tables/vision_curves.csv")
    assert len(curves) == 4  # 2 variants x 2 seeds x 1 epoch


def test_report_page_shows_claims_tables_figures_and_provenance(done):
    page = (done / "results/report.html").read_text()
    assert page.index("<h2>Claims</h2>") < page.index("vision: mean ± std")
    assert "robust beats standard under L2-PGD" in page
    assert any(v in page for v in ("holds", "does not hold", "inconclusive"))
    # vision: attributions, visualisations, features, robustness curves (L2 and L-inf); mer: robustness
    # curves; lime: LIME gallery, robustness curves, corruption heatmap
    assert page.count("data:image/png;base64,") == 8 + 3  # the probes' figures, an atlas figure per study
    # each figure with its probe's caption, each table in sections with readable headers
    assert "<figcaption>Robustness curves of vision on synthetic_shapes" in page
    assert "<h3>Clean and under attack</h3>" in page and "L2-PGD eps 0.5 (%)" in page
    assert "refinement removes the reliance on the planted cue" in page
    assert "robust accuracy at L2 0.5" in page and "What the verdicts mean" in page and "Scale: tiny" in page
    assert "configuration hash" in page and "snakemake" in page and "evaluate" in page
    md = (done / "results/report.md").read_text()
    assert "## Claims" in md and "](figures/vision_synthetic_shapes_attributions_seed0.png)" in md


def test_snakemake_report_has_captioned_figures_and_tables(copy_of_done):
    run(copy_of_done, str(BIN / "snakemake"), "--report", "smk-report.zip")
    import zipfile

    names = zipfile.ZipFile(copy_of_done / "smk-report.zip").namelist()
    for expected in ("vision_synthetic_shapes_attributions_seed0.png", "vision.csv", "report.html"):
        assert any(n.endswith(expected) for n in names), names


def test_lime_study_refines_evaluates_and_draws_its_figures(done):
    table = pd.read_csv(done / "results/tables/lime.csv").set_index("variant")
    assert sorted(table.index) == sorted(
        ["baseline", "refined", "refined_mask", "refined_rrr", "refined_adv"]
    )
    for col in (
        "acc_clean_mean",
        "acc_fgsm_8_mean",
        "acc_pgd_8_mean",
        "acc_corrupt_mean_mean",
        "cue_following_mean",
        "acc_cue_independent_mean",
        "acc_aa_linf_8_mean",
        "acc_robust_linf_8_mean",
        "gate_gradients_mean",
    ):
        assert table[col].between(0, 1).all(), col
    # the worst case over FGSM, PGD and AutoAttack is at most each of them (on AutoAttack's images)
    assert (table["acc_robust_linf_8_mean"] <= table["acc_aa_linf_8_mean"] + 1e-9).all()
    refined = table.drop(index="baseline")
    assert refined["flag_precision_mean"].between(0, 1).all() and (refined["lime_s_mean"] > 0).all()
    assert table["train_s_mean"].notna().all()
    record = json.loads((done / "results/lime/eval/synthetic_cue/refined/seed0.json").read_text())
    assert set(record["corruptions"]) == {"fog", "contrast"} and len(record["corruptions"]["fog"]) == 2
    assert [r["eps"] for r in record["sweep"]] == [0.0313725]
    trained = json.loads((done / "results/lime/models/synthetic_cue/refined_rrr/seed1.json").read_text())
    assert [r["round"] for r in trained["rounds"]] == [1] and trained["rounds"][0]["explained"] == 4
    assert trained["seed"] == 1
    assert table[["train_s_std", "lime_s_std"]].drop(index="baseline").notna().all().all()  # both seeds
    for name in ("attributions_seed0", "robustness", "corruptions"):
        figure = done / f"results/figures/lime_synthetic_cue_{name}.png"
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_mer_table_has_correlations_under_attack_bottleneck_units_and_cost(done):
    figure = done / "results/figures/mer_synthetic_mer_robustness.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pd.read_csv(done / "results/tables/mer.csv").set_index("variant")
    assert sorted(table.index) == sorted(["A2E", "A2B2E", "A2M2E", "aA2E", "aA2B2E", "linear"])
    for col in ("corr_clean_mean", "corr_bim_mean", "mae_clean_mean", "corr_drop_bim_mean", "norm_bim_mean"):
        assert table[col].notna().all(), col
    assert table["norm_bim_mean"].max() <= 0.001 * (32 * 149) ** 0.5 + 1e-6  # the L-inf bound holds
    # the reference attack: correlation, MAE, its norm and the share of clips reaching each threshold
    for col in (
        "corr_ref_mean",
        "mae_ref_mean",
        "norm_ref_mean",
        "ref_reached_0.5_mean",
        "ref_reached_-0.5_mean",
    ):
        assert table[col].notna().all(), col
    assert table.loc["A2M2E", "unit_corr_avg_mean"] == table.loc["A2M2E", "unit_corr_avg_mean"]
    assert pd.isna(table.loc["A2E"].get("unit_corr_avg_mean"))  # no bottleneck, no unit correlations
    assert (table["train_s_mean"] > 0).all() and table.loc["A2E", "paper_corr_clean"] == 0.73
    rec = json.loads((done / "results/mer/eval/synthetic_mer/A2E/seed0.json").read_text())
    assert [r["eps"] for r in rec["sweep"]] == [0.01, 1.0]
    page = (done / "results/report.html").read_text()
    assert "beats the black box (A2E) under attack" in page and "mer: mean ± std" in page


def test_every_job_is_mirrored_to_mlflow(done):
    client = mlflow.MlflowClient(f"sqlite:///{done / 'mlruns' / 'mlflow.db'}")
    exp = client.get_experiment_by_name("vision")
    runs = client.search_runs([exp.experiment_id])
    parents = {r.info.run_id: r for r in runs if "mlflow.parentRunId" not in r.data.tags}
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.tags["variant"] for r in parents.values()) == ["l2_robust", "standard"]
    assert len(children) == 4
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] in parents
        assert {"study", "dataset", "variant", "seed", "config_hash", "git_commit"} <= set(child.data.tags)
        assert "train/train_loss" in child.data.metrics and "eval/acc_clean" in child.data.metrics
        assert "eval/fid" in child.data.metrics
        assert child.data.params["variant.objective"] in ("standard", "adversarial")


def test_outputs_are_seeded_and_records_complete(done):
    rec = json.loads((done / "results/vision/eval/synthetic_shapes/standard/seed0.json").read_text())
    assert rec["seed"] == 0 and {"acc_clean", "acc_l2_pgd", "acc_linf_pgd"} <= set(rec["metrics"])
    assert not list((done / "results").rglob("*.tmp"))
    assert not (done / "results/vision/checkpoints").exists() or not list(
        (done / "results/vision/checkpoints").rglob("*.pt")
    )


def test_rerun_does_nothing_even_after_file_times_are_reset(copy_of_done):
    assert planned(copy_of_done) == {}
    # What `dvc checkout` does to file times: everything rewritten now, in any order.
    files = [p for p in (copy_of_done / "results").rglob("*") if p.is_file()]
    random.Random(0).shuffle(files)
    now = time.time()
    for i, p in enumerate(files):
        os.utime(p, (now + i, now + i))
    assert planned(copy_of_done) == {}


def test_changing_one_variant_reruns_only_that_variant(copy_of_done):
    cfg = params(copy_of_done)
    cfg["vision"]["variants"]["l2_robust"]["attack"]["eps"] = 0.25
    write_params(copy_of_done, cfg)
    expected = {
        "train": 2,
        "evaluate": 2,
        "aggregate": 1,
        "atlas": 1,
        "report_page": 1,
        "seed_figure": 3,
        "study_figure": 1,
        "all": 1,
    }
    assert planned(copy_of_done) == expected
    out = smk(copy_of_done, "-n")
    assert "variant=standard" not in out.stdout + out.stderr


def test_overlays_from_overlay_yaml_and_configfile_reach_the_plan(copy_of_done):
    """overlay.yaml (what DVC tracks) and `--configfile` both change the plan; null removes a key."""
    change = {"vision": {"variants": {"l2_robust": {"attack": {"eps": 0.25}}}}}
    (copy_of_done / "my.yaml").write_text(yaml.safe_dump(change))
    assert planned(copy_of_done, "--configfile", "params.yaml", "my.yaml")["train"] == 2
    (copy_of_done / "overlay.yaml").write_text(yaml.safe_dump(change))
    assert planned(copy_of_done)["train"] == 2
    drop = {"scales": {"tiny": {"vision": {"evaluate": {"attacks": {"linf_pgd": None}}}}}}
    (copy_of_done / "overlay.yaml").write_text(yaml.safe_dump(drop))
    plan = planned(copy_of_done)
    assert plan.get("train", 0) == 0 and plan["evaluate"] == 4  # only the vision evaluations change
    # the user's layers beat the scale (tiny trains 1 epoch), and the run's first lines say so
    (copy_of_done / "overlay.yaml").write_text("vision: {train: {epochs: 2}}\n")
    proc = smk(copy_of_done, "-n")
    assert "replaced these keys of the scale: vision.train.epochs" in proc.stderr
    assert "irbench: vision: 2 seeds, Holm over 4 primary claims" in proc.stderr
    (copy_of_done / "overlay.yaml").write_text("{}\n")
    (copy_of_done / "my.yaml").write_text("vision: {train: {epochs: 2}}\n")
    proc = smk(copy_of_done, "-n", "--configfile", "params.yaml", "my.yaml")
    assert "replaced these keys of the scale: vision.train.epochs" in proc.stderr
    (copy_of_done / "overlay.yaml").write_text("vision: {train: {epochs: ten}}\n")
    proc = smk(copy_of_done, "-n", check=False)
    assert (
        proc.returncode != 0
        and "params.yaml + overlay.yaml: key 'vision.train.epochs'" in proc.stdout + proc.stderr
    )


def test_bad_key_stops_before_any_job_with_a_one_line_message(copy_of_done):
    before = sorted(p.stat().st_mtime_ns for p in (copy_of_done / "results").rglob("*") if p.is_file())
    cfg = params(copy_of_done)
    cfg["sedes"] = cfg.pop("seeds")
    write_params(copy_of_done, cfg)
    proc = smk(copy_of_done, check=False)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "unknown key 'sedes'" in ln]
    assert lines, proc.stderr
    # one line: irbench's own, not under Snakemake's `IrbenchError in file ...` header with a traceback
    assert lines[0].startswith("irbench: params.yaml: unknown key 'sedes'")
    assert "Traceback" not in proc.stderr and "IrbenchError" not in proc.stderr
    after = sorted(p.stat().st_mtime_ns for p in (copy_of_done / "results").rglob("*") if p.is_file())
    assert before == after
    cfg["seeds"] = cfg.pop("sedes")
    cfg["vision"]["train"]["epochs"] = "ten"
    write_params(copy_of_done, cfg)
    proc = smk(copy_of_done, check=False)
    assert proc.returncode != 0 and "key 'vision.train.epochs'" in proc.stdout + proc.stderr
    # not YAML at all: irbench's line names the file, line and column, before Snakemake's own parse
    (copy_of_done / "params.yaml").write_text("scale: tiny\nseeds: [0, 1\nstudies: [vision]\n")
    proc = smk(copy_of_done, check=False)
    assert (
        proc.returncode != 0 and "params.yaml: not valid YAML at line 3, column" in proc.stdout + proc.stderr
    )


def _start(cwd: Path, *args: str) -> subprocess.Popen:
    """A Snakemake run in the background (its output in cwd/run.log)."""
    log = (cwd / "run.log").open("w")
    cmd = [str(BIN / "snakemake"), "--profile", "profiles/local", "--cores", "1", *args]
    return subprocess.Popen(
        cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env=_env(), start_new_session=True
    )


def _job_pid(cwd: Path, script: str, timeout: float = 120) -> int:
    """The pid of the first job of `script` (e.g. evaluate.py) that Snakemake starts in this project."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = subprocess.run(
            ["pgrep", "-f", f"{cwd}/.snakemake/scripts/.*{script}"], capture_output=True, text=True
        )
        if found.stdout.split():
            return int(found.stdout.split()[0])
        time.sleep(0.2)
    raise AssertionError(f"no {script} job started: {(cwd / 'run.log').read_text()[-2000:]}")


def test_two_runs_in_one_folder_are_impossible(copy_of_done):
    """A second run beside a running one is refused in one line, also after a run with nothing to do has
    ended in between (Snakemake's own exit removes every lock, the running run's included); a dry run is
    not refused; after a kill -9, the next run clears the stale lock itself."""
    target = "results/vision/eval/synthetic_shapes/standard/seed0.json"  # one job: the run stays cheap
    first = _start(copy_of_done, target, "--forcerun", "evaluate")
    try:
        os.kill(_job_pid(copy_of_done, "evaluate.py"), signal.SIGSTOP)  # the first run stays in progress
        idle = smk(copy_of_done, "results/vision/data/synthetic_shapes.pt", check=False)  # a no-op run ends
        assert idle.returncode != 0 and "another irbench run is using this folder" in idle.stderr
        assert smk(copy_of_done, "-n", "vision").returncode == 0  # reading the plan is fine
        second = smk(copy_of_done, target, "--forcerun", "evaluate", check=False)
        refused = [ln for ln in second.stderr.splitlines() if "another irbench run" in ln]
        assert second.returncode != 0 and len(refused) == 1 and "Traceback" not in second.stderr
        assert (
            refused[0].startswith("irbench: .snakemake/irbench-run.lock:")
            and f"pid {first.pid}" in refused[0]
        )
        assert "LockException" not in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # kill -9 the run and its jobs
        first.wait()
    assert any((copy_of_done / ".snakemake" / "locks").iterdir())  # the killed run's Snakemake lock
    after = smk(copy_of_done, target)
    assert "irbench: removed .snakemake/locks/, left by a run that was killed" in after.stderr


def test_gpu_jobs_ask_for_a_gpu_only_where_torch_sees_one(copy_of_done):
    """On a workstation the local profile's `gpu=1` runs one train or evaluate job at a time; on a CPU-only
    machine they ask for no GPU and still run side by side."""
    assert "- gpu=1" in (copy_of_done / "profiles/local/config.yaml").read_text()
    target = "results/vision/models/synthetic_shapes/standard/seed0.pt"
    out = smk(copy_of_done, "-n", "--forcerun", "train", target)
    asked = set(re.findall(r"resources: .*?gpu=(\d)", out.stdout + out.stderr))
    assert asked == {str(int(torch.cuda.is_available()))}


def test_a_failed_rerun_keeps_the_results_that_were_valid_before_it(copy_of_done):
    """A job that dies (here: SIGKILL, as a time limit or a lost node would) after Snakemake deleted its
    outputs gets them back, byte for byte, marked incomplete so that the next run recomputes them."""
    record = copy_of_done / "results/vision/eval/synthetic_shapes/standard/seed0.json"
    before = record.read_bytes()
    cfg = params(copy_of_done)
    cfg["scales"]["tiny"]["vision"]["evaluate"]["n_eval"] = 36
    write_params(copy_of_done, cfg)
    run = _start(copy_of_done, str(record.relative_to(copy_of_done)))
    os.kill(_job_pid(copy_of_done, "evaluate.py"), signal.SIGKILL)
    assert run.wait() != 0
    log = (copy_of_done / "run.log").read_text()
    assert "irbench: kept 2 result(s) that were valid before this run" in log
    assert record.read_bytes() == before
    assert planned(copy_of_done, str(record.relative_to(copy_of_done))) == {"evaluate": 1}
    smk(copy_of_done, str(record.relative_to(copy_of_done)))
    assert record.read_bytes() != before  # recomputed with the new setting
    assert not (copy_of_done / ".snakemake" / "irbench-kept").exists()  # emptied by the run that succeeded


def test_an_evaluation_killed_mid_probe_resumes_to_the_same_record(copy_of_done):
    """SIGKILL an evaluate job after some probes finished: the rerun keeps those, runs the rest, and the
    record's numbers equal the uninterrupted run's."""
    record = copy_of_done / "results/vision/eval/synthetic_shapes/standard/seed0.json"
    before = json.loads(record.read_text())
    log = copy_of_done / "logs/vision/evaluate/synthetic_shapes/standard/seed0.log"
    log.unlink()
    target = str(record.relative_to(copy_of_done))
    run = _start(copy_of_done, target, "--forcerun", "evaluate")
    pid = _job_pid(copy_of_done, "evaluate.py")
    deadline = time.time() + 300
    while time.time() < deadline and (not log.exists() or log.read_text().count("] probe ") < 3):
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    assert run.wait() != 0
    folder = copy_of_done / "results/vision/checkpoints/synthetic_shapes/standard/seed0.eval"
    assert len(list(folder.glob("*.pt"))) >= 3
    smk(copy_of_done, target)
    after = json.loads(record.read_text())
    assert after["metrics"] == before["metrics"]
    assert "kept from the interrupted run" in log.read_text() and not folder.exists()


def test_a_truncated_record_stops_the_run_before_any_job_and_costs_no_table(copy_of_done):
    tables = {p: p.read_bytes() for p in (copy_of_done / "results" / "tables").iterdir()}
    record = copy_of_done / "results/mer/eval/synthetic_mer/A2E/seed1.json"
    record.write_bytes(record.read_bytes()[:100])
    proc = smk(copy_of_done, check=False)
    said = [ln for ln in proc.stderr.splitlines() if "seed1.json: not valid JSON" in ln]
    assert proc.returncode != 0 and said and "delete" in said[0] and "Traceback" not in proc.stderr
    assert said[0].startswith("irbench: results/mer/eval/synthetic_mer/A2E/seed1.json")
    assert {p: p.read_bytes() for p in (copy_of_done / "results" / "tables").iterdir()} == tables


def test_missing_fid_weights_stop_the_run_before_any_job(tmp_path):
    project = make_project(tmp_path / "p")
    cfg = params(project)
    cfg["scales"]["tiny"]["vision"]["evaluate"]["visualise"]["extractor"] = {
        "kind": "inception",
        "weights": "weights/pt_inception-2015-12-05-6726825d.pth",
    }
    write_params(project, cfg)
    proc = smk(project, "-n", check=False)
    assert proc.returncode != 0
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "FID Inception weights not found" in ln]
    assert lines and "weights/pt_inception-2015-12-05-6726825d.pth" in lines[0] and "https://" in lines[0]
    # a 0-byte (or partly downloaded) file is found before the run too, not in the visualise probe hours in
    (project / "weights").mkdir()
    (project / "weights" / "pt_inception-2015-12-05-6726825d.pth").write_bytes(b"")
    proc = smk(project, "-n", check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "irbench: weights/pt_inception-2015-12-05-6726825d.pth: empty file" in proc.stderr


def test_unwritable_results_folder_is_named(tmp_path):
    project = make_project(tmp_path / "p")
    (project / "results").write_text("not a folder")
    proc = smk(project, "-n", check=False)
    assert proc.returncode != 0
    assert "results folder is not writable" in proc.stdout + proc.stderr


def test_between_workflow_cache_never_shares_a_model_between_seeds(tmp_path):
    env = {**_env(), "SNAKEMAKE_OUTPUT_CACHE": str(tmp_path / "cache")}
    (tmp_path / "cache").mkdir()
    targets = [f"results/vision/models/synthetic_shapes/standard/seed{s}.pt" for s in (0, 1)]
    # --cache goes last: it takes any number of rule names.
    first = make_project(tmp_path / "a")
    smk(first, *targets, "--cache", "train", env=env)
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(cached) == 4, cached  # two seeds x (.pt, .json), under two different keys
    assert len({name.split(".")[0] for name in cached}) == 2
    second = make_project(tmp_path / "b")
    proc = smk(second, *targets, "--cache", "train", env=env)
    assert "from cache" in proc.stdout + proc.stderr
    # Fetched, not trained: Snakemake leaves the job logs empty.
    assert all(p.read_text() == "" for p in (second / "logs/vision/train").rglob("*.log"))
    for s in (0, 1):
        rel = f"results/vision/models/synthetic_shapes/standard/seed{s}.json"
        assert json.loads((first / rel).read_text()) == json.loads((second / rel).read_text())
    h0, h1 = (json.loads((second / t.replace(".pt", ".json")).read_text())["history"] for t in targets)
    assert h0 != h1


def test_slurm_profile_plans_the_jobs(done):
    proc = run(done, str(BIN / "snakemake"), "--profile", "profiles/slurm", "-n", "--forceall")
    text = proc.stdout + proc.stderr
    assert re.search(r"^train\s+26$", text, flags=re.M), text  # vision 2 x 2, mer 6 x 2, lime 5 x 2
    assert re.search(r"^evaluate\s+26$", text, flags=re.M), text
    # sized to their work (irbench.sizing), with the campaign's GPU-hours up front
    assert "irbench: on a cluster this plan asks for 26 train and 26 evaluate GPU jobs" in text
    assert re.search(r"rule train:.*?runtime=\d+", text, flags=re.S) and "runtime=1440" not in text


SLURM_TARGETS = [
    "results/vision/eval/synthetic_shapes/standard/seed0.json",
    "results/vision/eval/synthetic_shapes/l2_robust/seed0.json",
    "results/mer/eval/synthetic_mer/A2E/seed0.json",
]


def _sacct_jobs(env: dict[str, str]) -> list[dict[str, str]]:
    """Every job the cluster's accounting knows: id, state, partition and the rule from its comment."""
    out = run(
        Path("."), "sacct", "-X", "-n", "-P", "-a", "--format=JobIDRaw,State,Partition,Comment", env=env
    )
    jobs = []
    for line in out.stdout.splitlines():
        job_id, state, partition, comment = line.split("|", 3)
        rule = re.match(r"rule_(\w+?)(_wildcards_|$)", comment)
        variant = "long_standard" if "long_standard" in comment else None
        jobs.append(
            {
                "id": job_id,
                "state": state,
                "partition": partition,
                "rule": rule and rule.group(1),
                "variant": variant,
            }
        )
    return jobs


def _runs_by_name(client: mlflow.MlflowClient, study: str) -> dict[str, tuple[str | None, dict]]:
    """run name -> (its parent's name, its metrics) in the study's experiment."""
    runs = client.search_runs([client.get_experiment_by_name(study).experiment_id])
    names = {r.info.run_id: r.info.run_name for r in runs}
    return {r.info.run_name: (names.get(r.data.tags.get("mlflow.parentRunId")), r.data.metrics) for r in runs}


# A training that needs longer than the one minute its first submission asks for: SLURM ends it at its time
# limit, Snakemake resubmits it (`retries`) asking for ten, and it resumes from its checkpoint.
LONG = {"objective": "standard", "model": {"width": 32}, "train": {"epochs": 70}}  # ~2 min on one core
LONG_TARGET = "results/vision/models/synthetic_shapes/long_standard/seed0.pt"
LONG_RUNTIME = "(1 if attempt == 1 else 10) if wildcards.variant == 'long_standard' else 30"


def test_slurm_cluster_runs_every_job_through_sbatch_and_logs_to_a_tracking_server(done, tmp_path):
    """The SLURM profile on a real single-node cluster (tests/services.py), jobs logging to a real
    `mlflow server`: every train/evaluate job goes through sbatch, and the numbers and the MLflow nesting
    are the local run's. A training that outlives its time limit is resubmitted by itself and resumes to
    the weights of an uninterrupted run."""
    why = slurm_unavailable()
    if why:
        pytest.skip(f"no local SLURM cluster: {why}")
    project = make_project(tmp_path / "project")
    cfg = params(project)
    cfg["vision"]["variants"]["long_standard"] = LONG
    write_params(project, cfg)
    # the profile as shipped, but for train's runtime (a --set-resources on the command line would replace
    # every train and evaluate request of the profile, partitions and GPUs included)
    profile = project / "profiles" / "slurm" / "config.yaml"
    settings = yaml.safe_load(profile.read_text())
    settings["set-resources"]["train"]["runtime"] = LONG_RUNTIME
    profile.write_text(yaml.safe_dump(settings, sort_keys=False))
    reference = make_project(tmp_path / "reference")  # the same training, uninterrupted, beside the cluster
    write_params(reference, cfg)
    plan = planned(project, *SLURM_TARGETS, LONG_TARGET)
    assert plan == {"prepare_dataset": 2, "train": 4, "evaluate": 3}, plan
    cluster_dir = Path(tempfile.mkdtemp(prefix="irbench-slurm-"))
    try:
        with mlflow_server(tmp_path / "mlflow") as uri, local_slurm(cluster_dir) as slurm_env:
            local = subprocess.Popen(
                [str(BIN / "snakemake"), "--profile", "profiles/local", "--cores", "1", LONG_TARGET],
                cwd=reference,
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            env = {**_env(), "SLURM_CONF": slurm_env["SLURM_CONF"], "MLFLOW_TRACKING_URI": uri}
            # the test node declares a GPU it does not have (so the profile's requests schedule unchanged):
            # SLURM sets CUDA_VISIBLE_DEVICES, and the jobs would rightly refuse it; run them on the CPU
            env["IRBENCH_DEVICE"] = "cpu"
            # one thread per job as in the local run, so the numbers can be equal
            run(
                project,
                str(BIN / "snakemake"),
                "--profile",
                "profiles/slurm",
                "--set-threads",
                "train=1",
                "evaluate=1",
                "--slurm-init-seconds-before-status-checks",
                "1",
                *SLURM_TARGETS,
                LONG_TARGET,
                env=env,
            )
            jobs = _sacct_jobs(env)
            client = mlflow.MlflowClient(uri)
            served = {study: _runs_by_name(client, study) for study in ("vision", "mer")}
            assert local.wait(timeout=900) == 0
    finally:
        shutil.rmtree(cluster_dir, ignore_errors=True)
    # the long training: ended at its limit, resubmitted without a person, resumed to the reference weights
    assert [j["state"] for j in jobs if j["variant"] == "long_standard"] == ["TIMEOUT", "COMPLETED"], jobs
    log = (project / "logs/vision/train/synthetic_shapes/long_standard/seed0.log").read_text()
    assert "resuming from" in log
    a, b = (torch.load(p / LONG_TARGET, map_location="cpu", weights_only=True) for p in (project, reference))
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in b["state_dict"])
    jobs = [j for j in jobs if j["variant"] != "long_standard"]
    plan["train"] -= 1
    # every planned job went through sbatch, in the profile's partition, and completed
    assert Counter(j["rule"] for j in jobs) == plan, jobs
    partition = {"prepare_dataset": "cpu", "train": "gpu", "evaluate": "gpu"}
    assert all(j["state"] == "COMPLETED" and j["partition"] == partition[j["rule"]] for j in jobs), jobs
    for target in SLURM_TARGETS:
        here, local = (json.loads((p / target).read_text())["metrics"] for p in (project, done))
        assert here == local, target
        model = target.replace("/eval/", "/models/").replace(".json", ".pt")
        a, b = (torch.load(p / model, map_location="cpu", weights_only=False) for p in (project, done))
        state_a, state_b = (m["state_dict"] if "state_dict" in m else m for m in (a, b))
        assert all(torch.equal(state_a[k], state_b[k]) for k in state_b), model
    local_client = mlflow.MlflowClient(f"sqlite:///{done / 'mlruns' / 'mlflow.db'}")
    for study, runs in served.items():
        local = _runs_by_name(local_client, study)
        for name, (parent, _) in runs.items():
            if "long_standard" not in name:  # trained only here
                assert local[name][0] == parent, name  # the same nesting: variant parent, seed child
    assert sorted(n for n in served["vision"] if "long_standard" not in n) == [
        "l2_robust · synthetic_shapes",
        "seed0 · l2_robust · synthetic_shapes",
        "seed0 · standard · synthetic_shapes",
        "standard · synthetic_shapes",
    ]
    record = json.loads((project / SLURM_TARGETS[0]).read_text())["metrics"]
    logged = served["vision"]["seed0 · standard · synthetic_shapes"][1]["eval/acc_clean"]
    assert logged == pytest.approx(record["acc_clean"], rel=1e-3)  # MLflow shows 4 significant digits
    parent = served["vision"]["standard · synthetic_shapes"][1]
    assert parent["eval/acc_clean_mean"] == logged and parent["eval/acc_clean_n_seeds"] == 1
    assert "train/train_loss" in served["mer"]["seed0 · A2E · synthetic_mer"][1]


def test_dvc_repro_twice_then_checkout_retrains_nothing(copy_of_done):
    """DVC's stages run the Snakemake targets: on a completed project the first `dvc repro` records them
    (Snakemake finds nothing to do), the second finds nothing changed, and `dvc checkout` restores what
    DVC tracks without a job. (An independent run's numbers equal the local run's: the SLURM test.)"""
    project = copy_of_done
    run(project, "git", "init", "-q")
    run(project, str(BIN / "dvc"), "init", "-q")
    shutil.copy(ROOT / ".dvc" / "config", project / ".dvc" / "config")  # the offline `dvc plots` page
    # no environment activated: the stages call the project's own Snakemake (scripts/snakemake.sh), here the
    # test's environment named by IRBENCH_ENV (so nothing is installed into the copy)
    bare = {**_env(), "IRBENCH_ENV": sys.prefix}
    bare["PATH"] = os.pathsep.join(p for p in bare["PATH"].split(os.pathsep) if Path(p) != BIN)
    models = {p: p.stat().st_mtime_ns for p in project.glob("results/*/models/**/*.pt")}
    first = run(project, str(BIN / "dvc"), "repro", env=bare)
    assert "Running stage" in first.stdout and models  # DVC ran its stages, and they trained nothing:
    assert {p: p.stat().st_mtime_ns for p in project.glob("results/*/models/**/*.pt")} == models
    assert (project / "results/tables/vision.csv").exists()
    second = run(project, str(BIN / "dvc"), "repro")
    assert "didn't change" in second.stdout or "up to date" in second.stdout, second.stdout
    assert "Running stage" not in second.stdout
    (project / "overlay.yaml").write_text("lime: {train: {epochs: 2}}\n")  # DVC tracks the overlay
    status = run(project, str(BIN / "dvc"), "status").stdout
    assert "study@lime" in status and "study@vision" in status and "report" in status
    (project / "overlay.yaml").write_text("{}\n")
    shows = run(project, str(BIN / "dvc"), "metrics", "show").stdout.splitlines()
    # the headline fits a terminal: a row per dataset/variant, a column per primary claim's metric
    assert "acc_clean" in shows[0] and "corr_bim" in shows[0] and "cue_following" in shows[0]
    assert len(shows) == 1 + 13 and max(map(len, shows)) <= 200, "\n".join(shows)
    # `dvc plots show`: per study, one line per dataset/variant (colour) and seed (its own line)
    plots = json.loads(run(project, str(BIN / "dvc"), "plots", "show", "--json").stdout)["data"]
    for study in ("vision", "mer", "lime"):
        (spec,) = plots[f"results/tables/{study}_curves.csv"]
        content = spec["content"]
        encoding = content["encoding"]
        assert encoding["color"]["field"] == "model" and encoding["detail"]["field"] == "run"
        lines = {(r["dataset"], r["variant"], r["seed"]) for r in content["data"]["values"]}
        trained = {p.parts[-3:] for p in (project / f"results/{study}/models").rglob("seed*.json")}
        assert lines == {(d, v, s.removeprefix("seed").removesuffix(".json")) for d, v, s in trained}
    shutil.rmtree(project / "results/vision/models")
    run(project, str(BIN / "dvc"), "checkout")
    assert (project / "results/vision/models/synthetic_shapes/standard/seed0.pt").exists()
    assert planned(project) == {}


def test_training_killed_with_sigkill_resumes_and_matches_an_uninterrupted_run(tmp_path):
    project = make_project(tmp_path / "p")
    cfg = params(project)
    cfg["scales"]["tiny"]["vision"]["train"]["epochs"] = 4
    cfg["scales"]["tiny"]["datasets"]["synthetic_shapes"]["n_train"] = 3000  # epochs of a few seconds
    write_params(project, cfg)
    target = "results/vision/models/synthetic_shapes/standard/seed0.json"
    ckpt = project / "results/vision/checkpoints/synthetic_shapes/standard/seed0.pt"
    cmd = [str(BIN / "snakemake"), "--profile", "profiles/local", "--cores", "1", target]
    proc = subprocess.Popen(
        cmd,
        cwd=project,
        env=_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), "no epoch checkpoint appeared"
    os.killpg(proc.pid, 9)  # SIGKILL Snakemake and the training job
    proc.wait()
    assert not (project / target).exists() and not (project / target.replace(".json", ".pt")).exists()
    smk(project, "--unlock")  # a killed Snakemake leaves its lock, as after a power loss
    smk(project, target)
    log = (project / "logs/vision/train/synthetic_shapes/standard/seed0.log").read_text()
    assert "resuming from" in log
    uninterrupted = make_project(tmp_path / "q")
    write_params(uninterrupted, cfg)
    smk(uninterrupted, target)
    resumed = json.loads((project / target).read_text())
    reference = json.loads((uninterrupted / target).read_text())
    # the training time counts the epochs done before the kill: at least the sum of every epoch's time
    assert resumed["resumed_s"] > 0 and reference["resumed_s"] == 0
    assert resumed["wall_s"] >= sum(row["epoch_s"] for row in resumed["history"]) > 0
    strip = [{k: v for k, v in row.items() if k != "epoch_s"} for row in resumed["history"]]
    assert strip == [{k: v for k, v in row.items() if k != "epoch_s"} for row in reference["history"]]
    assert not ckpt.exists()  # removed once the model is complete
