"""Build a dataset's corrupted test images once: the released CIFAR-10-C files, or generated corruptions."""

from irbench.joblog import run_job
from irbench.jobs.corrupt import corrupt_job

p = snakemake.params


def main(log):
    corrupt_job(data=snakemake.input[0], output=snakemake.output[0], spec=p.spec, seed=p.seed, log=log)


run_job(main, snakemake.log[0], snakemake.threads)
