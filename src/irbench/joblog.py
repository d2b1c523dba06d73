"""Job plumbing shared by the workflow scripts: a log that writes to the rule's log file and stderr,
and a wrapper that turns an IrbenchError or a Ctrl-C into a one-line message and a non-zero exit."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from irbench.errors import IrbenchError


class JobLog:
    """Appends timestamped lines to the job's log file and echoes them to stderr, there prefixed with the
    job's name (its log path under logs/, e.g. `vision/train/synthetic_shapes/standard/seed0`) so that
    parallel jobs' lines can be told apart."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        self.name = ""
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text("")
            parts = self.path.with_suffix("").parts
            self.name = "/".join(parts[parts.index("logs") + 1 :] if "logs" in parts else parts[-3:])

    def __call__(self, message: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {message}"
        print(f"{self.name} {line}" if self.name else line, file=sys.stderr, flush=True)
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(line + "\n")


def run_job(main: Callable[[JobLog], None], log_path: str | os.PathLike | None, threads: int = 1) -> None:
    """Run a job body with its log; bad input exits 1 with a one-line `irbench: error:` message."""
    log = JobLog(log_path)
    torch.set_num_threads(max(1, int(threads)))
    try:
        main(log)
    except IrbenchError as exc:
        log(f"irbench: error: {exc}")
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C: one line, not a traceback; outputs are written atomically
        log(
            "irbench: interrupted (Ctrl-C): this job's outputs were not written; rerun to continue "
            "(training resumes from its last finished epoch)"
        )
        sys.exit(130)
