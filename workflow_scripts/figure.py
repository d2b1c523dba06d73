"""Draw one probe's figure for one dataset (and seed) from the evaluate jobs' outputs (rules/report.smk)."""

from irbench.joblog import run_job
from irbench.jobs.figure import figure_job

p = snakemake.params


def main(log):
    figure_job(
        probe=p.probe,
        kind=snakemake.wildcards.kind,
        inputs=list(snakemake.input),
        output=snakemake.output[0],
        title=p.title,
        spec=p.spec,
        log=log,
    )


run_job(main, snakemake.log[0], snakemake.threads)
