# Helpers for the rules: validated configuration and the file lists that targets expand to.

import os

from snakemake.utils import validate

from irbench.config import config_hash, dataset_spec, eval_spec, resolve, study_seeds, train_spec
from irbench.datasets import check_dataset_folders
from irbench.io import ensure_writable_dir
from irbench.metrics.inception import check_fid_weights

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

# One-line error naming the key first; then Snakemake's own validation against the same schema.
CFG = resolve(config)
validate(config, "../src/irbench/params.schema.yaml")
check_dataset_folders(
    CFG["datasets"], sorted({d for s in CFG["studies"] for d in CFG[s]["datasets"]})
)
check_fid_weights(CFG)

ensure_writable_dir("results")


wildcard_constraints:
    study="[a-z]+",
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


def interpret_records(study):
    """Every per-seed generation/inversion record of a study (those with `evaluate.visualise`)."""
    if "visualise" not in CFG[study]["evaluate"]:
        return []
    return [f"results/{study}/interpret/{d}/{v}/seed{s}.json" for d, v, s in jobs(study)]


def train_records(study):
    """Every per-seed training metrics file of a study."""
    return [f"results/{study}/models/{d}/{v}/seed{s}.json" for d, v, s in jobs(study)]


# Per-seed figures and the evaluate key that makes them: attributions (IG/SHAP or LIME galleries),
# generation/inversion and feature visualisation.
FIGURE_KINDS = (
    ("attributions", "attributions"),
    ("attributions", "lime"),
    ("visualisations", "visualise"),
    ("features", "visualise"),
)


def figure_files(study):
    """The figures of a study per dataset: those of FIGURE_KINDS (first seed) its evaluation makes,
    robustness curves (`evaluate.sweep`) and the corruption heatmap (`evaluate.corruptions`)."""
    ev, datasets, first = CFG[study]["evaluate"], CFG[study]["datasets"], study_seeds(CFG, study)[0]
    kinds = list(dict.fromkeys(k for k, key in FIGURE_KINDS if key in ev))
    files = [f"results/figures/{study}_{d}_{k}_seed{first}.png" for d in datasets for k in kinds]
    if "sweep" in ev:
        files += [f"results/figures/{study}_{d}_robustness.png" for d in datasets]
    if "corruptions" in ev:
        files += [f"results/figures/{study}_{d}_corruptions.png" for d in datasets]
    return files


def table_files(study):
    return [f"results/tables/{study}{suffix}" for suffix in (".csv", ".md", "_metrics.json", "_curves.csv")]


def report_files(studies=None):
    """Every study's tables and figures, and the report page that gathers them."""
    studies = studies or CFG["studies"]
    files = [f for s in studies for f in table_files(s) + figure_files(s)]
    return files + ["results/report.html", "results/report.md"]


def train_params(wc):
    """Everything that determines one variant's training, so a change reruns just that variant."""
    return train_spec(CFG, wc.study, wc.variant, wc.dataset)


def refine_base(wc):
    """The trained model a refined variant starts from (`refine.from`); none for other variants."""
    r = train_params(wc).get("refine")
    return [f"results/{wc.study}/models/{wc.dataset}/{r['from']}/seed{wc.seed}.pt"] if r else []


def corruption_file(wc):
    """The corrupted test images an evaluation scores (studies with `evaluate.corruptions`), else none."""
    if "corruptions" not in eval_spec(CFG, wc.study, wc.dataset):
        return []
    return f"results/{wc.study}/data/{wc.dataset}.corrupt.pt"


def train_hash(wc):
    return config_hash({"dataset": dataset_spec(CFG, wc.dataset), "train": train_params(wc)})


def paper_datasets(study):
    """Which of the paper's datasets each configured dataset stands in for."""
    return {d: CFG["datasets"][d].get("paper_reference", d) for d in CFG[study]["datasets"]}
