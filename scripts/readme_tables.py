"""Rewrite the README's marked result blocks from a run's results/ folder (irbench.readme).

Usage: .venv/bin/python scripts/readme_tables.py RESULTS_DIR [--check]
  --check: change nothing; exit 1 if the README differs from what RESULTS_DIR gives.
"""

import sys
from pathlib import Path

from irbench.errors import IrbenchError
from irbench.readme import rewrite

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        sys.exit(__doc__)
    try:
        current = rewrite(ROOT / "README.md", args[0], check="--check" in sys.argv)
    except IrbenchError as exc:
        sys.exit(f"irbench: {exc}")
    print(
        "README.md: current"
        if current
        else "README.md: " + ("differs" if "--check" in sys.argv else "rewritten")
    )
    sys.exit(1 if "--check" in sys.argv and not current else 0)
