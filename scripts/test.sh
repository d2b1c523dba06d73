#!/usr/bin/env bash
# Set up .venv (if needed; IRBENCH_ENV=<prefix> uses an existing environment, see env.sh) and run the
# checks: ruff lint and format, snakemake --lint, then pytest.
# Extra arguments go to pytest (e.g. -m "not e2e" for the fast unit tests only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
bash scripts/setup-test-packages.sh  # the SLURM cluster, Chromium (root only; else those tests skip, saying why)
echo "== ruff" && "$ENV/bin/ruff" check . && "$ENV/bin/ruff" format --check .
echo "== snakemake --lint"
lint="$("$ENV/bin/snakemake" --lint --profile profiles/local 2>&1)" || { echo "$lint"; exit 1; }
grep -q "Congratulations, your workflow is in a good condition" <<<"$lint" || { echo "$lint"; exit 1; }
echo "== pytest" && "$ENV/bin/python" -m pytest "$@"
