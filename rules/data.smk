rule prepare_dataset:
    output:
        "results/{study}/data/{dataset}.pt",
    params:
        spec=lambda wc: dataset_spec(CFG, wc.dataset),
    log:
        "logs/{study}/data/{dataset}.log",
    threads: workflow.cores  # audio features use every core
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"
