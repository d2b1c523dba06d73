"""Class generation and representation inversion of every variant for one dataset and seed
(rules/report.smk)."""

from irbench.data.tensors import load_meta
from irbench.figures import visualisation_grid
from irbench.joblog import run_job
from irbench.training import load_trained

p = snakemake.params


def main(log):
    n_classes = load_meta(snakemake.input.data)["n_classes"]
    models = {
        v: load_trained(path, p.model_specs[v], n_classes)
        for v, path in zip(p.variants, snakemake.input.models, strict=True)
    }
    visualisation_grid(snakemake.input.data, models, p.spec, snakemake.output[0], seed=p.seed, title=p.title)
    log(f"wrote {snakemake.output[0]}")


run_job(main, snakemake.log[0], snakemake.threads)
