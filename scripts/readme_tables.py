"""Rewrite the marked result blocks of README.md and docs/results.md from a run's results/ folder
(irbench.readme).

Usage: .venv/bin/python scripts/readme_tables.py RESULTS_DIR [--check]
  --check: change nothing; exit 1 if a file differs from what RESULTS_DIR gives.
"""

import sys
from pathlib import Path

from irbench.errors import IrbenchError
from irbench.readme import GENERATED, rewrite_all

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        sys.exit(__doc__)
    try:
        stale = rewrite_all(ROOT, args[0], check="--check" in sys.argv)
    except IrbenchError as exc:
        sys.exit(f"irbench: {exc}")
    for name in GENERATED:
        state = "differs" if "--check" in sys.argv else "rewritten"
        print(f"{name}: {state if name in stale else 'current'}")
    sys.exit(1 if "--check" in sys.argv and stale else 0)
