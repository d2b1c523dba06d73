"""Class generation and representation inversion of every variant for one dataset and seed
(rules/report.smk)."""

from irbench.figures import visualisation_grid
from irbench.joblog import run_job

p = snakemake.params


def main(log):
    models = dict(zip(p.variants, snakemake.input.models, strict=True))
    visualisation_grid(
        snakemake.input.data, models, p.model_specs, p.spec, snakemake.output[0], seed=p.seed, title=p.title
    )
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
