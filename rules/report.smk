rule aggregate:
    input:
        evals=lambda wc: eval_records(wc.study) + interpret_records(wc.study),
        train=lambda wc: train_records(wc.study),
    output:
        csv="results/tables/{study}.csv",
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
        "results/figures/{study}_{dataset}_attributions_seed{seed}.png",
    params:
        title=lambda wc: f"{wc.study} {wc.dataset} seed {wc.seed}: Integrated Gradients and SHAP",
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
        "results/figures/{study}_{dataset}_{kind}_seed{seed}.png",
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


rule vision:
    input:
        eval_records("vision") + interpret_records("vision") if "vision" in CFG["studies"] else [],


rule report:
    input:
        report_files(),
