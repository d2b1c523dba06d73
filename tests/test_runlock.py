"""One run per folder (irbench.runlock): a second run is refused in one line naming the first, read-only
commands are not, and a Snakemake lock left by a killed run is cleared."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from irbench import runlock
from irbench.errors import IrbenchError

HOLD = """
import sys, time
from irbench import runlock
assert runlock.acquire(sys.argv[1], ["snakemake", "all"]) is None
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the folder's run lock, as a running Snakemake would."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(runlock, "_held", None)


def test_a_second_run_is_refused_in_one_line_naming_the_first(tmp_path, holder):
    with pytest.raises(IrbenchError) as err:
        runlock.guard(["vision", "--cores", "2"], tmp_path)
    message = str(err.value)
    assert "\n" not in message and "another irbench run is using this folder" in message
    assert f"pid {holder.pid}" in message and "snakemake all" in message and "irbench-run.lock" in message


def test_a_dry_run_or_lint_beside_a_run_is_not_refused(tmp_path, holder):
    for argv in (["-n"], ["-np", "vision"], ["--dry-run"], ["--lint"], ["--summary"], ["--unlock"]):
        assert runlock.guard(argv, tmp_path) is None, argv


def test_the_lock_goes_with_its_process_however_it_ends(tmp_path, holder):
    """kill -9 leaves no lock of ours behind (the kernel releases it), so the next run is not refused;
    Snakemake's own lock from the killed run is stale then, and removed with one line."""
    (tmp_path / ".snakemake" / "locks").mkdir(parents=True)
    (tmp_path / ".snakemake" / "locks" / "0.output.lock").write_text("results/x.json\n")
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    said = runlock.guard(["vision"], tmp_path)
    assert said is not None and "removed .snakemake/locks/" in said and "\n" not in said
    assert not (tmp_path / ".snakemake" / "locks").exists()
    assert runlock.guard(["vision"], tmp_path) is None  # held by this process now: asking again is fine


def _other_process_asks(folder) -> str:
    """What runlock.acquire answers in another process: None, or the holder's line."""
    code = "import sys; from irbench import runlock; print(runlock.acquire(sys.argv[1]))"
    return subprocess.run(
        [sys.executable, "-c", code, folder], capture_output=True, text=True, check=True
    ).stdout


def test_a_run_holds_the_lock_until_it_ends(tmp_path):
    assert runlock.acquire(tmp_path, ["all"]) is None
    held = _other_process_asks(tmp_path)
    assert held.startswith("pid ") and " all" in held
    runlock._held.close()
    runlock._held = None
    time.sleep(0.05)
    assert _other_process_asks(tmp_path).strip() == "None"
