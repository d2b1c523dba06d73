rule train:
    input:
        data="results/{study}/data/{dataset}.pt",
        base=refine_base,
        weights=checkpoint_file,
    output:
        multiext("results/{study}/models/{dataset}/{variant}/seed{seed}", ".pt", ".json"),
    params:
        # study, dataset, variant and seed are params too: the between-workflow cache key ignores
        # wildcards, so without them two seeds would share one cached model.
        study="{study}",
        dataset="{dataset}",
        variant="{variant}",
        seed=lambda wc: int(wc.seed),
        spec=train_params,
        config_hash=train_hash,
        checkpoint="results/{study}/checkpoints/{dataset}/{variant}/seed{seed}.pt",
    log:
        "logs/{study}/train/{dataset}/{variant}/seed{seed}.log",
    conda:
        "../envs/irbench.yaml"
    threads: 1
    priority: 10  # train before evaluating, so long trainings of different seeds run side by side
    resources:
        mem_mb=4000,
        # minutes a cluster is asked for, from the job's work (irbench.sizing); a resubmission asks for more
        runtime=lambda wc, attempt: train_minutes(CFG, wc.study, wc.variant, wc.dataset, attempt),
        gpu=GPU_PER_JOB,
    cache: "omit-software"
    script:
        "../workflow_scripts/train.py"
