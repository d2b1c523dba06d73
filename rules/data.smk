rule prepare_dataset:
    output:
        "results/{study}/data/{dataset}.pt",
    params:
        spec=lambda wc: dataset_spec(CFG, wc.dataset),
    log:
        "logs/{study}/data/{dataset}.log",
    threads: 8  # audio features use up to 8 processes (Snakemake caps this at --cores)
    conda:
        "../envs/irbench.yaml"
    script:
        "../workflow_scripts/prepare_dataset.py"
