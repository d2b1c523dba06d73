"""Generate or import one dataset into a prepared tensor file (rules/data.smk)."""

from irbench.datasets import prepare_dataset
from irbench.joblog import run_job

p = snakemake.params


def main(log):
    meta = prepare_dataset(p.spec, snakemake.output[0], workers=snakemake.threads)
    log(f"wrote {snakemake.output[0]}: {meta}")


run_job(main, snakemake.log[0], snakemake.threads)
