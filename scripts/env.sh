# Sourced by run.sh and test.sh: choose the Python environment and set ENV to its prefix.
# Default: the project's .venv, created or updated by setup.sh from requirements.txt. With IRBENCH_ENV set
# to an existing environment's prefix (a venv or conda env holding requirements.txt and this package),
# that one is used as it is: nothing is installed into it.
if [[ -n "${IRBENCH_ENV:-}" ]]; then
  ENV="${IRBENCH_ENV%/}"
  if ! "$ENV/bin/python" -c "import irbench, snakemake" 2>/dev/null || [[ ! -x "$ENV/bin/snakemake" ]]; then
    echo "irbench: IRBENCH_ENV=$ENV has no python with irbench and snakemake (install requirements.txt and" \
      "'pip install -e .' into it, or unset IRBENCH_ENV to use .venv)" >&2
    exit 1
  fi
  echo "irbench: using the environment $ENV as it is (IRBENCH_ENV)" >&2
else
  bash scripts/setup.sh
  ENV=.venv
fi
export MLFLOW_DISABLE_TELEMETRY=true DVC_NO_ANALYTICS=1
