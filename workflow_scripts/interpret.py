"""Class generation + FID, inversion + feature distance and unit visualisation of one trained model
(rules/evaluate.smk)."""

from irbench.joblog import run_job
from irbench.jobs import interpret_job

p = snakemake.params


def main(log):
    interpret_job(
        data=snakemake.input.data,
        model=snakemake.input.model,
        output=snakemake.output.record,
        images_output=snakemake.output.images,
        study=p.study,
        dataset=p.dataset,
        variant=p.variant,
        seed=p.seed,
        model_spec=p.model,
        spec=p.spec,
        batch_size=p.batch_size,
        config_hash=p.config_hash,
        mlflow_settings=snakemake.config["mlflow"],
        log=log,
    )


run_job(main, snakemake.log[0], snakemake.threads)
