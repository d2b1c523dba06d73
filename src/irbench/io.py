"""Atomic file writes: every output is written under a temporary name, then renamed into place, with the
permissions the user's umask gives a new file (not the 0600 of a temporary file).

A job killed mid-write therefore never leaves a file that looks complete. JSON is written strictly: a
NaN or infinity becomes null.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from irbench.errors import IrbenchError


def _umask() -> int:
    """The process's umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds. A write
    that fails (a full disk) is one line naming the file; what was at `path` before is kept."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise IrbenchError(f"{target.parent}: cannot write here ({exc.strerror})") from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, FILE_MODE)
        os.replace(tmp_path, target)
    except OSError as exc:
        kept = "the previous file is kept" if target.exists() else "nothing was written"
        raise IrbenchError(
            f"{target}: not written ({exc.strerror or exc}; {kept}): free space on {target.parent} "
            "or make it writable, then rerun"
        ) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_torch(obj: Any, path: str | os.PathLike) -> None:
    """torch.save `obj` to `path` atomically. torch's writer reports a full disk as a RuntimeError
    ('unexpected pos'); it becomes the OSError it is, so the message says 'No space left on device'."""
    with atomic_path(path) as tmp:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:
            if shutil.disk_usage(tmp.parent).free < 1 << 20:  # the half-written file filled the disk
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from exc
            raise


def load_torch(path: str | os.PathLike) -> Any:
    """torch.load a file irbench wrote (tensors and plain containers only: `weights_only=True`, so
    nothing is unpickled), with a one-line error if it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise IrbenchError(f"{path}: file not found (expected a tensor file written by irbench)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a bad file
        if isinstance(exc, pickle.UnpicklingError):
            why = "it holds more than tensors and plain containers"
        else:
            why = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise IrbenchError(
            f"{path}: cannot be read as a torch file irbench wrote ({why}); delete {path} and rerun"
        ) from exc


def strict(obj: Any) -> Any:
    """`obj` with every NaN or infinite float replaced by None (strict JSON has neither)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [strict(v) for v in obj]
    return obj


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write `obj` as indented, strict JSON (NaN and infinities as null) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(strict(obj), indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file with a one-line error naming it if it is missing or malformed."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise IrbenchError(f"{path}: file not found") from exc
    except json.JSONDecodeError as exc:
        raise IrbenchError(
            f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}; a job stopped while writing it?): "
            f"delete {path} and rerun, and the job that writes it runs again"
        ) from exc


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file, read in 1 MB blocks (weights and datasets are large)."""
    digest = hashlib.new(algorithm)
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(text: str, path: str | os.PathLike) -> None:
    """Write a text file atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def ensure_writable_dir(path: str | os.PathLike) -> Path:
    """Create `path` if needed and check it is a writable folder; one-line error naming it if not."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".irbench-write-test-")
        probe.close()
    except OSError as exc:
        raise IrbenchError(
            f"{folder.resolve()}: results folder is not writable (expected a writable folder)"
        ) from exc
    return folder
