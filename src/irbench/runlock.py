"""One run per folder. A Snakemake run of irbench holds an OS lock on `.snakemake/irbench-run.lock` for as
long as its process lives; the kernel releases it however the process ends (kill -9 included).

Why not Snakemake's own lock alone: Snakemake 9.27 ends every run, one with nothing to do included, by
deleting the whole `.snakemake/locks/` folder (`persistence/file.py`, `_delete_locks`), the locks of a
run still going included, so a second run of the same target was then not refused. And after a kill -9
its lock stays behind and the next run stops with a multi-line LockException. Holding this lock means no
other irbench run is in the folder, so a Snakemake lock found then is stale and is removed, said in a line.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from irbench.errors import IrbenchError

LOCK = Path(".snakemake") / "irbench-run.lock"
SNAKEMAKE_LOCKS = Path(".snakemake") / "locks"
# Snakemake options that only read the folder: they run beside a run in progress (as Snakemake allows).
READ_ONLY = (
    "dryrun",
    "unlock",
    "summary",
    "detailed_summary",
    "list_rules",
    "list_target_rules",
    "dag",
    "rulegraph",
    "filegraph",
    "d3dag",
    "list_changes",
    "list_input_changes",
    "list_params_changes",
    "list_code_changes",
    "list_untracked",
    "print_compilation",
)

_held: IO[str] | None = None  # the open lock file of this process (kept open: closing it releases the lock)


def acquire(folder: str | os.PathLike = ".", argv: Sequence[str] = ()) -> str | None:
    """Take the folder's run lock for the rest of this process's life. Returns None when taken (or taken
    already), else the line its holder wrote (pid, host, start time, command)."""
    global _held
    if _held is not None:
        return None
    path = Path(folder) / LOCK
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 (held open on purpose: the lock lives as long as the file is open)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "a process that has not yet said who it is"
        handle.close()
        return holder
    except OSError as exc:  # a file system without locks (some Lustre mounts): say so, do not stop the run
        handle.close()
        print(f"irbench: warning: {path}: cannot lock ({exc.strerror}); a second run here is not refused")
        return None
    handle.seek(0)
    handle.truncate()
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}, started {started}: {' '.join(argv)}\n")
    handle.flush()
    _held = handle
    return None


def clear_stale_snakemake_locks(folder: str | os.PathLike = ".") -> bool:
    """With the run lock held, any Snakemake lock left in the folder belongs to a run that was killed:
    remove it (what `snakemake --unlock` does). True if there was one."""
    locks = Path(folder) / SNAKEMAKE_LOCKS
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    shutil.rmtree(locks)
    return True


def only_reads(argv: Sequence[str]) -> bool:
    """Whether this Snakemake command line only reads the folder (a dry run, --lint, a summary, ...)."""
    from snakemake.cli import get_argument_parser  # ~1 s: only asked when another run holds the folder

    try:
        args, _ = get_argument_parser().parse_known_args(list(argv))
    except SystemExit:  # not Snakemake's command line (the API, a test): treat as a run
        return False
    return getattr(args, "lint", None) is not None or any(getattr(args, k, False) for k in READ_ONLY)


def guard(argv: Sequence[str], folder: str | os.PathLike = ".") -> str | None:
    """Before Snakemake builds its DAG: refuse a second run in the folder with one line, and clear a stale
    Snakemake lock. Returns a line to print (a stale lock removed), or None."""
    holder = acquire(folder, argv)
    if holder is None:
        if clear_stale_snakemake_locks(folder):
            return (
                f"irbench: removed {SNAKEMAKE_LOCKS}/, left by a run that was killed (no other run holds "
                "this folder); its unfinished jobs run again"
            )
        return None
    if only_reads(argv):
        return None
    raise IrbenchError(
        f"{Path(folder) / LOCK}: another irbench run is using this folder ({holder}); wait for it to end, "
        "or stop it, then run again"
    )
