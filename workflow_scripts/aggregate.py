"""Aggregate a study's per-seed records into comparison tables; mirror them to MLflow unless the jobs
did (`mlflow.live`) (rules/report.smk)."""

from irbench.joblog import run_job
from irbench.tables import write_report
from irbench.tracking import job_settings, mirror_study

out = snakemake.output


def main(log):
    table = write_report(
        snakemake.params.study,
        snakemake.input.evals,
        snakemake.input.train,
        snakemake.params.paper_datasets,
        csv=out.csv,
        md=out.md,
        metrics=out.metrics,
        curves_csv=out.curves,
        specs=snakemake.params.specs,
    )
    log(f"wrote {out.csv} and {out.md} ({len(table)} rows)")
    settings = job_settings(snakemake.config["mlflow"])
    mirror_study(settings, snakemake.input.train, snakemake.input.evals, log=log)


run_job(main, snakemake.log[0], snakemake.threads)
