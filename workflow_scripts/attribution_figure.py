"""Draw the side-by-side attribution figure of every variant for one dataset and seed (rules/report.smk)."""

from irbench.figures import attribution_grid
from irbench.joblog import run_job


def main(log):
    attribution_grid(snakemake.input, snakemake.output[0], snakemake.params.title)
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
