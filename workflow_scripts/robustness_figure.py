"""Draw a study's robustness curves (metric against attack eps, every variant) for one dataset."""

from irbench.figures import robustness_curves
from irbench.joblog import run_job


def main(log):
    robustness_curves(snakemake.input, snakemake.output[0], snakemake.params.title)
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
