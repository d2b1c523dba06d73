rule aggregate:
    input:
        evals=lambda wc: eval_records(wc.study) + interpret_records(wc.study),
        train=lambda wc: train_records(wc.study),
    output:
        csv=report(
            "results/tables/{study}.csv",
            caption="../report/table.rst",
            category="{study}",
            subcategory="tables",
        ),
        md="results/tables/{study}.md",
        metrics="results/tables/{study}_metrics.json",
        curves="results/tables/{study}_curves.csv",
    params:
        study="{study}",
        paper_datasets=lambda wc: paper_datasets(wc.study),
    log:
        "logs/report/{study}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/aggregate.py"


rule attribution_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/eval/{wc.dataset}/{v}/seed{wc.seed}.attr.pt"
            for v in CFG[wc.study]["variants"]
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_attributions_seed{seed}.png",
            caption="../report/attributions.rst",
            category="{study}",
            subcategory="attributions",
        ),
    params:
        title=lambda wc: f"{wc.study} {wc.dataset} seed {wc.seed}: "
        + (
            "LIME, superpixel weights for the true class"
            if "lime" in eval_spec(CFG, wc.study, wc.dataset)
            else "Integrated Gradients and SHAP"
        ),
    log:
        "logs/report/{study}_{dataset}_attributions_seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/attribution_figure.py"


rule visualisation_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/interpret/{wc.dataset}/{v}/seed{wc.seed}.images.pt"
            for v in CFG[wc.study]["variants"]
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_{kind}_seed{seed}.png",
            caption="../report/visualisation.rst",
            category="{study}",
            subcategory="{kind}",
        ),
    wildcard_constraints:
        kind="visualisations|features",
    params:
        kind="{kind}",
        n_inversions=lambda wc: eval_spec(CFG, wc.study, wc.dataset)["visualise"]["n_inversions_shown"],
        title=lambda wc: f"{wc.study} {wc.dataset} seed {wc.seed}",
    log:
        "logs/report/{study}_{dataset}_{kind}_seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/visualisation_figure.py"


rule robustness_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/eval/{wc.dataset}/{v}/seed{s}.json"
            for v in CFG[wc.study]["variants"]
            for s in study_seeds(CFG, wc.study)
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_robustness.png",
            caption="../report/robustness.rst",
            category="{study}",
            subcategory="robustness",
        ),
    params:
        title=lambda wc: f"{wc.study} {wc.dataset}",
    log:
        "logs/report/{study}_{dataset}_robustness.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/robustness_figure.py"


rule corruption_figure:
    input:
        lambda wc: [
            f"results/{wc.study}/eval/{wc.dataset}/{v}/seed{s}.json"
            for v in CFG[wc.study]["variants"]
            for s in study_seeds(CFG, wc.study)
        ],
    output:
        report(
            "results/figures/{study}_{dataset}_corruptions.png",
            caption="../report/corruptions.rst",
            category="{study}",
            subcategory="corruptions",
        ),
    params:
        title=lambda wc: f"{wc.study} {wc.dataset}",
    log:
        "logs/report/{study}_{dataset}_corruptions.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/corruption_figure.py"


rule report_page:
    input:
        tables=[f"results/tables/{s}.csv" for s in CFG["studies"]],
        records=[f for s in CFG["studies"] for f in eval_records(s) + interpret_records(s)],
        train=[f for s in CFG["studies"] for f in train_records(s)],
        figures=[f for s in CFG["studies"] for f in figure_files(s)],
    output:
        html=report("results/report.html", caption="../report/report_page.rst", category="report"),
        md="results/report.md",
    params:
        studies={
            s: {
                "records": eval_records(s) + interpret_records(s),
                "train": train_records(s),
                "figures": figure_files(s),
            }
            for s in CFG["studies"]
        },
        config_hash=config_hash(CFG),
    log:
        "logs/report/report_page.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/report_page.py"


rule vision:
    input:
        eval_records("vision") + interpret_records("vision") if "vision" in CFG["studies"] else [],


rule mer:
    input:
        eval_records("mer") if "mer" in CFG["studies"] else [],


rule lime:
    input:
        eval_records("lime") if "lime" in CFG["studies"] else [],


rule report:
    input:
        report_files(),
