"""Draw a study's corruption-by-severity accuracy heatmap (every variant) for one dataset."""

from irbench.figures import corruption_heatmap
from irbench.joblog import run_job


def main(log):
    corruption_heatmap(snakemake.input, snakemake.output[0], snakemake.params.title)
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
