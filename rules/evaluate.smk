rule corrupt_dataset:
    input:
        "results/{study}/data/{dataset}.pt",
    output:
        "results/{study}/data/{dataset}.corrupt.pt",
    params:
        spec=lambda wc: eval_spec(CFG, wc.study, wc.dataset)["corruptions"],
        seed=lambda wc: CFG["datasets"][wc.dataset].get("seed", 0),
    log:
        "logs/{study}/data/{dataset}.corrupt.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../workflow_scripts/corrupt_dataset.py"


rule evaluate:
    wildcard_constraints:
        study="vision|lime",
    input:
        data="results/{study}/data/{dataset}.pt",
        model="results/{study}/models/{dataset}/{variant}/seed{seed}.pt",
        train_metrics="results/{study}/models/{dataset}/{variant}/seed{seed}.json",
        corruptions=corruption_file,
    output:
        record="results/{study}/eval/{dataset}/{variant}/seed{seed}.json",
        attributions="results/{study}/eval/{dataset}/{variant}/seed{seed}.attr.pt",
    params:
        study="{study}",
        dataset="{dataset}",
        variant="{variant}",
        seed=lambda wc: int(wc.seed),
        model=lambda wc: train_params(wc)["model"],
        spec=lambda wc: eval_spec(CFG, wc.study, wc.dataset),
        config_hash=train_hash,
    log:
        "logs/{study}/evaluate/{dataset}/{variant}/seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../workflow_scripts/evaluate.py"


rule evaluate_regression:
    wildcard_constraints:
        study="mer",
    input:
        data="results/{study}/data/{dataset}.pt",
        model="results/{study}/models/{dataset}/{variant}/seed{seed}.pt",
        train_metrics="results/{study}/models/{dataset}/{variant}/seed{seed}.json",
    output:
        record="results/{study}/eval/{dataset}/{variant}/seed{seed}.json",
    params:
        study="{study}",
        dataset="{dataset}",
        variant="{variant}",
        seed=lambda wc: int(wc.seed),
        model=lambda wc: train_params(wc)["model"],
        spec=lambda wc: eval_spec(CFG, wc.study, wc.dataset),
        config_hash=train_hash,
    log:
        "logs/{study}/evaluate/{dataset}/{variant}/seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../workflow_scripts/evaluate.py"


rule interpret:
    input:
        data="results/{study}/data/{dataset}.pt",
        model="results/{study}/models/{dataset}/{variant}/seed{seed}.pt",
        train_metrics="results/{study}/models/{dataset}/{variant}/seed{seed}.json",
    output:
        record="results/{study}/interpret/{dataset}/{variant}/seed{seed}.json",
        images="results/{study}/interpret/{dataset}/{variant}/seed{seed}.images.pt",
    params:
        study="{study}",
        dataset="{dataset}",
        variant="{variant}",
        seed=lambda wc: int(wc.seed),
        model=lambda wc: train_params(wc)["model"],
        spec=lambda wc: eval_spec(CFG, wc.study, wc.dataset)["visualise"],
        batch_size=lambda wc: eval_spec(CFG, wc.study, wc.dataset)["batch_size"],
        config_hash=train_hash,
    log:
        "logs/{study}/interpret/{dataset}/{variant}/seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=60,
    script:
        "../workflow_scripts/interpret.py"
