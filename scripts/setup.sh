#!/usr/bin/env bash
# Create the project-local virtual environment .venv from the exact pins in requirements.txt (one pip
# call), then requirements-nodeps.txt without dependencies (Quantus), unless it already matches them.
# Source it or run it; it is idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null || PY=python3
stamp=".venv/.irbench-requirements"
want="$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ ! -x .venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "irbench: setting up .venv from requirements.txt (first time: a few minutes)" >&2
  [[ -x .venv/bin/python ]] || "$PY" -m venv .venv
  # pip warns once per package about this machine's optional local indexes; keep the log readable.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -e . \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-nodeps.txt \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  echo "$want" > "$stamp"
fi
