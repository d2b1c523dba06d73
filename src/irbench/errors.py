"""The one exception type irbench raises for bad input: a one-line message naming the file or key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class IrbenchError(Exception):
    """A user-facing error whose message is one line naming the path or key and what was expected."""


@contextmanager
def exit_in_one_line() -> Iterator[None]:
    """Around the Snakefile's own code: an IrbenchError ends the run with irbench's one line, instead of
    Snakemake's `IrbenchError in file ..., line N:` header and traceback around it."""
    try:
        yield
    except IrbenchError as exc:
        raise SystemExit(f"irbench: {exc}") from None
