"""Evaluate one trained model with the probes its study names; mirror to MLflow (rules/evaluate.smk)."""

from irbench.joblog import run_job
from irbench.jobs.evaluate import evaluate_job
from irbench.records import RunKey
from irbench.tracking import job_settings

p = snakemake.params
MODEL_INPUTS = ("data", "model", "train_metrics")


def main(log):
    evaluate_job(
        data=snakemake.input.data,
        model=snakemake.input.model,
        output=snakemake.output.record,
        artifacts_output=snakemake.output.artifacts,
        key=RunKey(p.study, p.dataset, p.variant, p.seed, p.config_hash),
        model_spec=p.model,
        spec=p.spec,
        mlflow_settings=job_settings(snakemake.config["mlflow"]),
        inputs={k: v for k, v in snakemake.input.items() if k not in MODEL_INPUTS},
        checkpoint=p.checkpoint,
        log=log,
    )


run_job(main, snakemake.log[0], snakemake.threads)
