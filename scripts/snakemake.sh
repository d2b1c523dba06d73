#!/usr/bin/env bash
# The project's own Snakemake, whether or not a virtual environment is activated: IRBENCH_ENV's when set
# (see env.sh), else .venv's (set up first if needed). dvc.yaml's stages call this. Arguments go to
# Snakemake.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
exec "$ENV/bin/snakemake" "$@"
