"""Train one variant for one seed and mirror it to MLflow (rules/train.smk)."""

from irbench.joblog import run_job
from irbench.jobs import train_job

p = snakemake.params


def main(log):
    train_job(
        data=snakemake.input.data,
        base_model=snakemake.input.base[0] if snakemake.input.base else None,
        outputs=snakemake.output,
        study=p.study,
        dataset=p.dataset,
        variant=p.variant,
        seed=p.seed,
        spec=p.spec,
        config_hash=p.config_hash,
        checkpoint=p.checkpoint,
        mlflow_settings=snakemake.config["mlflow"],
        log=log,
    )


run_job(main, snakemake.log[0], snakemake.threads)
