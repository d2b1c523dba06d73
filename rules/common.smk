# Helpers for the rules: validated configuration and the file lists that targets expand to.
# No study, probe or dataset is named here: everything comes from params.yaml and the registries.

import json
import os
import sys

import torch

from irbench.config import (
    check_inputs,
    check_study_names,
    config_hash,
    dataset_spec,
    layered,
    load_yaml,
    eval_spec,
    resolve,
    run_setting,
    scale_overrides,
    study_seeds,
    train_spec,
)
from irbench.claims import seed_plan
from irbench.records import check_readable
from irbench.errors import exit_in_one_line
from irbench.io import ensure_writable_dir
from irbench.kept import forget, keep, restore
from irbench.probes import figures_of, input_files
from irbench.published import PUBLISHED, run_fingerprint
from irbench.runlock import guard
from irbench.sizing import campaign, evaluate_minutes, train_minutes

OVERLAY = "overlay.yaml"
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

# Validated against the schema generated from the registries (one-line error naming the key), then the
# files the configuration names (dataset folders, weights) are checked: all before any job starts.
# Layers, each deep-merged over the last (nested keys merge, null removes a key): params.yaml, the chosen
# scale's overlay (`scales.<scale>`), the user's `--configfile`s and `--config` values, overlay.yaml
# (empty as shipped; DVC tracks it). The user's layers come last, so they beat the scale; the scale's
# keys they replaced are named in the report and at the start of the run.
# Every IrbenchError here is irbench's one line, not a traceback under Snakemake's header.
with exit_in_one_line():
    # One run per folder (irbench.runlock); jobs that Snakemake starts in their own process skip it.
    if workflow.is_main_process:
        _said = guard(sys.argv[1:])
        if _said:
            print(_said, file=sys.stderr)
    _cli = workflow.config_settings
    _user = layered(_cli.configfiles, _cli.config, overlay=OVERLAY)
    _source = f"params.yaml + {OVERLAY}" if os.path.exists(OVERLAY) and load_yaml(OVERLAY) else "params.yaml"
    CFG = resolve(load_yaml("params.yaml"), _source, user=_user)
    SCALE_OVERRIDES = scale_overrides(load_yaml("params.yaml"), _user)
    if workflow.is_main_process:  # the files themselves are read once, by the run, not again by each job
        check_inputs(CFG)
    # the jobs read the resolved tracking settings from here (irbench.tracking.job_settings)
    os.environ.update(IRBENCH_MLFLOW=json.dumps(CFG["mlflow"]))
    for _line in seed_plan(CFG, SCALE_OVERRIDES):
        print(_line, file=sys.stderr)
    if workflow.is_main_process:
        print(campaign(CFG), file=sys.stderr)

    ensure_writable_dir("results")



# Results valid before a run survive its failures (irbench.kept): kept before any job starts, put back
# (and marked incomplete, so the next run recomputes them) where a failed job's outputs went missing.
onstart:
    keep(f for job in workflow.dag.needrun_jobs() for f in job.output)


onsuccess:
    forget()


onerror:
    _put_back = []
    for _job in workflow.dag.needrun_jobs():
        _back = restore(_job.output)
        if _back:
            workflow.persistence.started(_job)
            _put_back += _back
    if _put_back:
        print(
            f"irbench: kept {len(_put_back)} result(s) that were valid before this run, in place and marked "
            f"incomplete (recomputed by the next run): {', '.join(_put_back)}",
            file=sys.stderr,
        )


# A GPU workstation runs one GPU job at a time (the local profile's `resources: gpu=1`; `--resources
# gpu=N` for more), with CPU jobs beside it: train and evaluate ask for a GPU where this machine has one,
# and for none on a CPU-only machine, so that there they still run side by side.
GPU_PER_JOB = 1 if torch.cuda.is_available() else 0

wildcard_constraints:
    study="[a-z][a-z0-9]*",
    dataset="[A-Za-z0-9_]+",
    variant="[A-Za-z0-9_]+",
    seed=r"\d+",


def jobs(study):
    """(dataset, variant, seed) of every training job of a study."""
    s = CFG[study]
    return [(d, v, seed) for d in s["datasets"] for v in s["variants"] for seed in study_seeds(CFG, study)]


def eval_records(study):
    """Every per-seed evaluation record of a study."""
    return [f"results/{study}/eval/{d}/{v}/seed{s}.json" for d, v, s in jobs(study)]


def train_records(study):
    """Every per-seed training metrics file of a study."""
    return [f"results/{study}/models/{d}/{v}/seed{s}.json" for d, v, s in jobs(study)]


# A record truncated by a crash stops the run here, in one line, rather than the job that reads it.
if workflow.is_main_process:
    with exit_in_one_line():
        check_readable(f for s in CFG["studies"] for f in eval_records(s) + train_records(s))


def figure_captions(study):
    """The figures the study's probes draw, per dataset (per-seed ones for its first seed): path -> caption."""
    first = study_seeds(CFG, study)[0]
    return {
        (
            f"results/figures/{study}_{d}_{kind}_seed{first}.png"
            if fig.per_seed
            else f"results/figures/{study}_{d}_{kind}.png"
        ): fig.caption.format(study=study, dataset=d)
        for d in CFG[study]["datasets"]
        for kind, (_, fig) in figures_of(eval_spec(CFG, study, d)).items()
    }


def figure_files(study):
    """The figures the study's probes draw."""
    return list(figure_captions(study))


def eval_specs(study):
    """Each dataset's evaluate section (the tables name and order their columns by it)."""
    return {d: eval_spec(CFG, study, d) for d in CFG[study]["datasets"]}


def figure_params(wc):
    """The probe that draws a figure, its settings, the figure's title and caption."""
    spec = eval_spec(CFG, wc.study, wc.dataset)
    probe, fig = figures_of(spec)[wc.kind]
    title = f"{wc.study} {wc.dataset}" + (f" seed {wc.seed}" if "seed" in wc.keys() else "")
    caption = fig.caption.format(study=wc.study, dataset=wc.dataset)
    return {"probe": probe, "spec": spec[probe], "title": title, "caption": caption}


def table_files(study):
    tables = [f"results/tables/{study}{suffix}" for suffix in (".csv", ".md", "_curves.csv")]
    return tables + [f"results/metrics/{study}"]


def atlas_files(study):
    """The study's atlas table (CSV, Markdown). Its folder of figures and cards (results/atlas/<study>/)
    comes with them and is read by path: as an input, a folder's time stamp would rerun the report after
    its files' times are reset (`dvc checkout`), where a file's checksum does not."""
    return [f"results/atlas/{study}.csv", f"results/atlas/{study}.md"]


def report_files(studies=None):
    """Every study's tables, figures and atlas, and the report page that gathers them."""
    studies = studies or CFG["studies"]
    files = [f for s in studies for f in table_files(s) + figure_files(s) + atlas_files(s)]
    return files + ["results/report.html", "results/report.md"]


def train_params(wc):
    """Everything that determines one variant's training, so a change reruns just that variant."""
    return train_spec(CFG, wc.study, wc.variant, wc.dataset)


def checkpoint_file(wc):
    """The weights file an imported variant reads (`checkpoint.path`); none for trained variants."""
    c = train_params(wc).get("checkpoint")
    return [c["path"]] if c else []


def refine_base(wc):
    """The trained model a refined variant starts from (`refine.from`); none for other variants."""
    r = train_params(wc).get("refine")
    return [f"results/{wc.study}/models/{wc.dataset}/{r['from']}/seed{wc.seed}.pt"] if r else []


def evaluate_inputs(wc):
    """The data, the trained model and the extra files the study's probes read (e.g. corrupted images)."""
    model = f"results/{wc.study}/models/{wc.dataset}/{wc.variant}/seed{wc.seed}"
    return {
        "data": f"results/{wc.study}/data/{wc.dataset}.pt",
        "model": f"{model}.pt",
        "train_metrics": f"{model}.json",
        **input_files(eval_spec(CFG, wc.study, wc.dataset), wc.study, wc.dataset),
    }


def train_hash(wc):
    return config_hash({"dataset": dataset_spec(CFG, wc.dataset), "train": train_params(wc)})


def paper_datasets(study):
    """Which of the paper's datasets each configured dataset stands in for."""
    return {d: CFG["datasets"][d].get("paper_reference", d) for d in CFG[study]["datasets"]}
