"""Results kept through a failed rerun.

Snakemake deletes a job's outputs before it runs the job, and again when the job fails, so a rerun that
fails (a bad weights file, a truncated input) would cost results that were valid before it. (Its own
`update()` flag, meant to keep and restore them, restored nothing in Snakemake 9.27.) So before any job
of a run starts, the existing outputs of the jobs it will run are hard-linked into
`.snakemake/irbench-kept/` (no extra space while they are current); when the run fails, the outputs of
its unfinished jobs that are missing are linked back from there, and the workflow marks those jobs
incomplete, so the previous results stay in place and are recomputed by the next run. A run that succeeds
empties the folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

KEPT = Path(".snakemake") / "irbench-kept"


def _link(src: Path, dst: Path) -> None:
    """Put `src`'s content at `dst` atomically: a hard link where the file system allows, else a copy."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.irbench-kept-tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # no hard links here (another device, some network file systems)
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def _files(path: Path) -> list[Path]:
    """The files at `path`: itself, or every file under it when it is a folder (a directory() output)."""
    return [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())


def keep(paths: Iterable[str | os.PathLike], folder: str | os.PathLike = ".") -> int:
    """Keep each existing file or folder of `paths` (relative to the run's folder). Returns how many."""
    kept = 0
    for path in paths:
        src = Path(folder) / path
        if src.exists() and not Path(path).is_absolute():
            for f in _files(src):
                _link(f, Path(folder) / KEPT / f.relative_to(folder))
            kept += 1
    return kept


def restore(paths: Iterable[str | os.PathLike], folder: str | os.PathLike = ".") -> list[str]:
    """Put back each file or folder of `paths` that is missing and was kept. Returns the paths put back."""
    restored = []
    for path in paths:
        dst, src = Path(folder) / path, Path(folder) / KEPT / path
        if not dst.exists() and src.exists():
            for f in _files(src):
                _link(f, dst / f.relative_to(src) if src.is_dir() else dst)
            restored.append(str(path))
    return restored


def forget(folder: str | os.PathLike = ".") -> None:
    """After a run that succeeded: the kept copies are no longer needed."""
    shutil.rmtree(Path(folder) / KEPT, ignore_errors=True)
