rule prepare_dataset:
    output:
        "results/{study}/data/{dataset}.pt",
    params:
        spec=lambda wc: dataset_spec(CFG, wc.dataset),
    log:
        "logs/{study}/data/{dataset}.log",
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"
