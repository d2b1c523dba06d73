"""Train one variant for one seed and mirror it to MLflow (rules/train.smk)."""

from irbench.joblog import run_job
from irbench.jobs.train import train_job
from irbench.records import RunKey
from irbench.tracking import job_settings

p = snakemake.params


def main(log):
    train_job(
        data=snakemake.input.data,
        base_model=snakemake.input.base[0] if snakemake.input.base else None,
        outputs=snakemake.output,
        key=RunKey(p.study, p.dataset, p.variant, p.seed, p.config_hash),
        spec=p.spec,
        checkpoint=p.checkpoint,
        mlflow_settings=job_settings(snakemake.config["mlflow"]),
        log=log,
    )


run_job(main, snakemake.log[0], snakemake.threads)
