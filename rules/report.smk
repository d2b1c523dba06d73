rule aggregate:
    input:
        evals=lambda wc: eval_records(wc.study),
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
        data="results/{study}/data/{dataset}.pt",
        models=lambda wc: [
            f"results/{wc.study}/models/{wc.dataset}/{v}/seed{wc.seed}.pt"
            for v in CFG[wc.study]["variants"]
        ],
    output:
        "results/figures/{study}_{dataset}_visualisations_seed{seed}.png",
    params:
        variants=lambda wc: list(CFG[wc.study]["variants"]),
        model_specs=lambda wc: {v: train_spec(CFG, wc.study, v)["model"] for v in CFG[wc.study]["variants"]},
        spec=lambda wc: eval_spec(CFG, wc.study)["visualise"],
        seed=lambda wc: int(wc.seed),
        title=lambda wc: f"{wc.study} {wc.dataset} seed {wc.seed}",
    log:
        "logs/report/{study}_{dataset}_visualisations_seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/visualisation_figure.py"


rule vision:
    input:
        eval_records("vision") if "vision" in CFG["studies"] else [],


rule report:
    input:
        report_files(),
