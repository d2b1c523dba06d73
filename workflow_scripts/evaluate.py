"""Evaluate one trained model with the study's battery and mirror it to MLflow (rules/evaluate.smk)."""

from irbench.joblog import run_job
from irbench.jobs import evaluate_job

p = snakemake.params
corrupted = getattr(snakemake.input, "corruptions", None)  # a path, or an empty list when not configured


def main(log):
    evaluate_job(
        data=snakemake.input.data,
        model=snakemake.input.model,
        output=snakemake.output.record,
        attr_output=getattr(snakemake.output, "attributions", None),  # classification only
        study=p.study,
        dataset=p.dataset,
        variant=p.variant,
        seed=p.seed,
        model_spec=p.model,
        spec=p.spec,
        config_hash=p.config_hash,
        mlflow_settings=snakemake.config["mlflow"],
        log=log,
        corruptions=corrupted if isinstance(corrupted, str) else None,
    )


run_job(main, snakemake.log[0], snakemake.threads)
