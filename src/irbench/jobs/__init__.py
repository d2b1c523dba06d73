"""The bodies of the workflow's jobs (train, evaluate, corrupt, figure): library calls with atomic outputs
and MLflow mirroring, callable and tested without Snakemake. Each workflow script calls one of them."""
