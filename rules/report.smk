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


rule vision:
    input:
        eval_records("vision") if "vision" in CFG["studies"] else [],


rule report:
    input:
        report_files(),
