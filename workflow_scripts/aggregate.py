"""Aggregate a study's per-seed records into comparison tables (rules/report.smk)."""

from irbench.joblog import run_job
from irbench.tables import write_report

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


run_job(main, snakemake.log[0], snakemake.threads)
