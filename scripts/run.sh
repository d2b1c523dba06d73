#!/usr/bin/env bash
# Set up .venv (if needed; IRBENCH_ENV=<prefix> uses an existing environment instead, see env.sh) and run
# the benchmark's configuration (params.yaml + overlay.yaml) with Snakemake on all local cores. Extra
# arguments go to Snakemake (e.g. a target such as `vision`, or -n to plan).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
start=$(date +%s)
"$ENV/bin/snakemake" --profile profiles/local "$@"
end=$(date +%s)
echo "irbench: comparison tables in $(pwd)/results/tables/ ($(ls results/tables/*.md 2>/dev/null | xargs -n1 basename | tr '\n' ' '))"
echo "irbench: report (claims, tables, figures) in $(pwd)/results/report.html"
echo "irbench: wall time $((end - start)) s"
