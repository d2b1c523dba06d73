"""The atlas of one study: its table, a figure per dataset and a card per model; each card logged to the
model's MLflow run (rules/report.smk)."""

from pathlib import Path

from irbench.atlas import AtlasSettings, write_atlas
from irbench.cards import card_paths
from irbench.joblog import run_job
from irbench.tracking import job_settings, mirror_card

p = snakemake.params
out = snakemake.output


def main(log):
    rows = write_atlas(
        p.study,
        snakemake.input.evals,
        snakemake.input.train,
        AtlasSettings.of(p.settings),
        csv=out.csv,
        md=out.md,
        figures={d: Path(out.folder, f"{d}.png") for d in p.specs},
        cards=Path(out.folder, "cards"),
        specs=p.specs,
    )
    log(f"wrote {out.md}: {len(rows)} score(s) across models")
    settings = job_settings(snakemake.config["mlflow"])
    if settings.get("enabled", True):
        for record, (dataset, variant, seed) in zip(snakemake.input.evals, p.models, strict=True):
            mirror_card(
                settings, record, card_paths(Path(out.folder, "cards"), dataset, variant, seed), log=log
            )


run_job(main, snakemake.log[0], snakemake.threads)
