rule aggregate:
    input:
        evals=lambda wc: eval_records(wc.study),
        train=lambda wc: train_records(wc.study),
    output:
        csv=report(
            "results/tables/{study}.csv",
            caption="../report/table.rst",
            category="{study}",
            subcategory="tables",
        ),
        md="results/tables/{study}.md",
        metrics=directory("results/metrics/{study}"),  # the headline, a file per variant (dvc metrics)
        curves="results/tables/{study}_curves.csv",
    params:
        study="{study}",
        paper_datasets=lambda wc: paper_datasets(wc.study),
        specs=lambda wc: eval_specs(wc.study),
    log:
        "logs/report/{study}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/aggregate.py"


# The atlas across a study's models: table, a figure per dataset, a card per model (irbench.atlas).
rule atlas:
    input:
        evals=lambda wc: eval_records(wc.study),
        train=lambda wc: train_records(wc.study),
    output:
        csv="results/atlas/{study}.csv",
        md="results/atlas/{study}.md",
        folder=directory("results/atlas/{study}"),
    params:
        study="{study}",
        specs=lambda wc: eval_specs(wc.study),
        settings=CFG.get("atlas", {}),
        models=lambda wc: jobs(wc.study),
    log:
        "logs/report/{study}_atlas.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/atlas.py"


# A figure of one seed (attribution maps, generated images, ...), drawn from every variant's artifacts.
rule seed_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/eval/{wc.dataset}/{v}/seed{wc.seed}.artifacts.pt"
            for v in CFG[wc.study]["variants"]
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_{kind}_seed{seed}.png",
            caption="../report/figure.rst",
            category="{study}",
            subcategory="{kind}",
        ),
    wildcard_constraints:
        kind="[a-z]+",
    params:
        probe=lambda wc: figure_params(wc)["probe"],
        spec=lambda wc: figure_params(wc)["spec"],
        title=lambda wc: figure_params(wc)["title"],
        caption=lambda wc: figure_params(wc)["caption"],
    log:
        "logs/report/{study}_{dataset}_{kind}_seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/figure.py"


# A figure over seeds (robustness curves, corruption heatmap), drawn from every variant's and seed's records.
rule study_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/eval/{wc.dataset}/{v}/seed{s}.json"
            for v in CFG[wc.study]["variants"]
            for s in study_seeds(CFG, wc.study)
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_{kind}.png",
            caption="../report/figure.rst",
            category="{study}",
            subcategory="{kind}",
        ),
    wildcard_constraints:
        kind="[a-z]+",
    params:
        probe=lambda wc: figure_params(wc)["probe"],
        spec=lambda wc: figure_params(wc)["spec"],
        title=lambda wc: figure_params(wc)["title"],
        caption=lambda wc: figure_params(wc)["caption"],
    log:
        "logs/report/{study}_{dataset}_{kind}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/figure.py"


rule report_page:
    input:
        tables=[f"results/tables/{s}.csv" for s in CFG["studies"]],
        atlas=[f for s in CFG["studies"] for f in atlas_files(s)],
        records=[f for s in CFG["studies"] for f in eval_records(s)],
        train=[f for s in CFG["studies"] for f in train_records(s)],
        figures=[f for s in CFG["studies"] for f in figure_files(s)],
        # the README's default-run numbers, compared with where the configuration is the same
        published=[str(PUBLISHED)] if PUBLISHED.is_file() else [],
    output:
        html=report("results/report.html", caption="../report/report_page.rst", category="report"),
        md="results/report.md",
    params:
        studies={
            s: {
                "records": eval_records(s),
                "train": train_records(s),
                "figures": figure_files(s),
                "specs": eval_specs(s),
                "captions": figure_captions(s),
            }
            for s in CFG["studies"]
        },
        config_hash=config_hash(CFG),
        fingerprint=run_fingerprint(CFG),
        run_setting=run_setting(CFG, SCALE_OVERRIDES),
    log:
        "logs/report/report_page.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/report_page.py"


# One target per configured study (`snakemake <study>`): its evaluation records and tables.
check_study_names(CFG["studies"], [r.name for r in workflow.rules])
for _study in CFG["studies"]:

    rule:
        name:
            _study
        localrule: True
        input:
            eval_records(_study) + table_files(_study),


rule report:
    input:
        report_files(),
