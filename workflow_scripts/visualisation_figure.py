"""Generation/inversion or feature-visualisation figure of every variant for one dataset and seed
(rules/report.smk)."""

from irbench.figures import feature_grid, visualisation_grid
from irbench.joblog import run_job

p = snakemake.params


def main(log):
    if p.kind == "visualisations":
        visualisation_grid(snakemake.input, snakemake.output[0], p.title, n_inversions=p.n_inversions)
    else:
        feature_grid(snakemake.input, snakemake.output[0], p.title)
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
