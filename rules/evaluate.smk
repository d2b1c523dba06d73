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


# One job per trained model: the probes the study's `evaluate` section names, one record.
rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        record="results/{study}/eval/{dataset}/{variant}/seed{seed}.json",
        artifacts="results/{study}/eval/{dataset}/{variant}/seed{seed}.artifacts.pt",
    params:
        study="{study}",
        dataset="{dataset}",
        variant="{variant}",
        seed=lambda wc: int(wc.seed),
        model=lambda wc: train_params(wc)["model"],
        spec=lambda wc: eval_spec(CFG, wc.study, wc.dataset),
        config_hash=train_hash,
        # each finished probe is kept here until the record is written: a killed job resumes at its probe
        checkpoint="results/{study}/checkpoints/{dataset}/{variant}/seed{seed}.eval",
    log:
        "logs/{study}/evaluate/{dataset}/{variant}/seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=lambda wc, attempt: evaluate_minutes(CFG, wc.study, wc.variant, wc.dataset, attempt),
        gpu=GPU_PER_JOB,
    script:
        "../workflow_scripts/evaluate.py"
