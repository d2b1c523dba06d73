"""The README's result sections (and the manual's results page), generated from a run so they cannot drift.

A marked block in README.md or docs/results.md (GENERATED),

    <!-- irbench:begin tables/vision.md#Clean and under attack -->
    ...
    <!-- irbench:end -->

is replaced by that file of the run's `results/` folder (path relative to it), or by the section under
that heading (down to the next heading of the same or a higher level). `scripts/readme_tables.py` rewrites
the README in place; `--check` only reports whether it is current.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from irbench.errors import IrbenchError

GENERATED = ("README.md", "docs/results.md")  # the files whose marked blocks a run rewrites
BEGIN = re.compile(r"<!-- irbench:begin (?P<source>[^#>]+?)(?:#(?P<section>[^>]+?))? -->")
END = "<!-- irbench:end -->"
HEADING = re.compile(r"^(#+) (.*)$")


def md_section(text: str, title: str, source: str = "") -> str:
    """The body of the Markdown section headed `title` (any level), without its heading."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        if m and m.group(2).strip() == title:
            level, body = len(m.group(1)), []
            for rest in lines[i + 1 :]:
                h = HEADING.match(rest)
                if h and len(h.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body).strip()
    raise IrbenchError(f"{source}: no section headed {title!r}")


def fill(readme: str, results: str | os.PathLike, name: str = "README.md") -> str:
    """`readme` with every marked block replaced by its source in the `results` folder."""
    out, pos = [], 0
    for m in BEGIN.finditer(readme):
        end = readme.find(END, m.end())
        if end < 0:
            line = readme.count("\n", 0, m.start()) + 1
            raise IrbenchError(f"{name}, line {line}: '{m.group(0)}' has no '{END}' after it")
        source = m.group("source").strip()
        path = Path(results) / source
        if not path.is_file():
            raise IrbenchError(f"{name}: block '{source}' names {path}, which does not exist (run first)")
        text = path.read_text()
        body = md_section(text, m.group("section").strip(), str(path)) if m.group("section") else text.strip()
        out += [readme[pos : m.end()], "\n", body, "\n"]
        pos = end
    return "".join(out) + readme[pos:]


def rewrite(readme_path: str | os.PathLike, results: str | os.PathLike, check: bool = False) -> bool:
    """Rewrite the README's marked blocks from `results` (atomically); with `check`, only compare.
    Returns whether the README was already current."""
    from irbench.io import write_text

    path = Path(readme_path)
    old = path.read_text()
    new = fill(old, results, path.name)
    if new != old and not check:
        write_text(new, path)
    return new == old


def rewrite_all(root: str | os.PathLike, results: str | os.PathLike, check: bool = False) -> list[str]:
    """Rewrite (or with `check` compare) the blocks of every GENERATED file under `root`; returns the
    files that were not current."""
    return [name for name in GENERATED if not rewrite(Path(root) / name, results, check)]
