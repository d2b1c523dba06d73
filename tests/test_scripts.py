"""The README's commands: an existing environment is used as it is, a broken one is named."""

import os
import subprocess
import sys

from .conftest import ROOT


def _run(env_prefix: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "IRBENCH_ENV": env_prefix}
    return subprocess.run(
        ["bash", str(ROOT / "scripts/run.sh"), *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_run_uses_an_existing_environment_without_installing_into_it():
    proc = _run(sys.prefix, "--version")
    assert proc.returncode == 0, proc.stderr
    assert f"using the environment {sys.prefix} as it is" in proc.stderr
    assert "setting up .venv" not in proc.stderr
    assert proc.stdout.splitlines()[0].strip()[0].isdigit()  # snakemake's version, from that environment


def test_an_environment_without_irbench_is_named_in_one_line(tmp_path):
    proc = _run(str(tmp_path), "--version")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"irbench: IRBENCH_ENV={tmp_path} has no python with irbench and snakemake (install requirements.txt "
        "and 'pip install -e .' into it, or unset IRBENCH_ENV to use .venv)"
    )
