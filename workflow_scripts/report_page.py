"""Gather every study's claims, tables, figures and provenance into results/report.{html,md}
(rules/report.smk)."""

from irbench.joblog import run_job
from irbench.published import load
from irbench.report_page import StudyInputs, build_report
from irbench.tracking import git_commit

p = snakemake.params


def main(log):
    studies = {
        study: StudyInputs(
            f"results/tables/{study}.csv",
            files["records"],
            files["train"],
            files["figures"],
            files["specs"],
            files["captions"],
            atlas=f"results/atlas/{study}",
        )
        for study, files in p.studies.items()
    }
    claims = build_report(
        studies,
        html_path=snakemake.output.html,
        md_path=snakemake.output.md,
        config_hash=p.config_hash,
        fingerprint=p.fingerprint,
        git_commit=git_commit(),
        run_setting=p.run_setting,
        published=load(snakemake.input.published[0]) if snakemake.input.published else None,
    )
    for c in claims:
        interval = f"[{c.ci_low:+.4g}, {c.ci_high:+.4g}], p (Holm) {c.p_holm:.3g}"
        log(f"{c.study} {c.dataset}: {c.claim}: {c.verdict} ({c.mean_diff:+.4g} {interval}, n {c.n_pairs})")
    log(f"wrote {snakemake.output.html} and {snakemake.output.md}")


run_job(main, snakemake.log[0], snakemake.threads)
