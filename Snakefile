# irbench: are interpretable models more robust, and are robust models more interpretable?
# The DAG: prepare data -> train every (study, dataset, variant, seed) -> evaluate -> report tables.
# Configuration: params.yaml only, validated before any job starts (rules/common.smk).

from snakemake.utils import min_version

from irbench.config import load_yaml
from irbench.errors import exit_in_one_line

min_version("9.0")

# A params.yaml that is not YAML gets irbench's one line (file, line, column) before Snakemake's own parse.
# `--configfile my.yaml` is merged over it by Snakemake; overlay.yaml over both (rules/common.smk).
with exit_in_one_line():
    load_yaml("params.yaml")


configfile: "params.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


# Light jobs run where Snakemake runs; on a cluster, data preparation, training and evaluation are submitted.
localrules:
    all,
    report,
    aggregate,
    atlas,
    report_page,
    seed_figure,
    study_figure,


rule all:
    input:
        report_files(),
    default_target: True
