#!/usr/bin/env bash
# Set up .venv (if needed) and run the checks: ruff lint and format, snakemake --lint, then pytest.
# Extra arguments go to pytest (e.g. -m "not e2e" for the fast unit tests only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1
echo "== ruff" && .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== snakemake --lint"
lint="$(.venv/bin/snakemake --lint --profile profiles/local 2>&1)" || { echo "$lint"; exit 1; }
grep -q "Congratulations, your workflow is in a good condition" <<<"$lint" || { echo "$lint"; exit 1; }
echo "== pytest" && .venv/bin/python -m pytest "$@"
