"""The manual: the README fits a few screens, and every relative link of the README and of docs/ resolves
to a file and, where it names one, to a heading of that file (GitHub's anchors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text, fence, out = page.read_text(), False, set()
    for line in text.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (m := re.match(r"^#+ (.*)$", line)):
            out.add(anchor(m.group(1)))
    return out


def links(page: Path) -> list[str]:
    """Relative links outside code blocks and inline code."""
    out, fence = [], False
    for line in page.read_text().splitlines():
        if line.startswith("```"):
            fence = not fence
            continue
        if not fence:
            out += [t for t in LINK.findall(re.sub(r"`[^`]*`", "", line)) if "://" not in t]
    return out


def test_the_readme_fits_a_few_screens():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_resolves(page):
    for target in links(page):
        path, _, frag = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        assert dest.exists(), f"{page.name}: {target} (no such file)"
        if frag and dest.suffix == ".md":
            assert frag in anchors(dest), f"{page.name}: {target} (no such heading)"


def test_every_docs_page_is_reached_from_the_readme():
    readme = (ROOT / "README.md").read_text()
    for page in PAGES[1:]:
        assert f"docs/{page.name}" in readme, page.name


def test_the_anchor_rule():
    assert anchor("Real data: Soundtracks + Mid-level") == "real-data-soundtracks--mid-level"
    assert anchor("Run on a SLURM GPU cluster") == "run-on-a-slurm-gpu-cluster"


def test_the_layout_page_names_every_module_and_package():
    """docs/layout.md draws the library; a module or package (at any depth) added without its name there
    fails here."""
    text = (ROOT / "docs" / "layout.md").read_text()
    src = ROOT / "src" / "irbench"
    names = {p.stem for p in src.rglob("*.py") if p.stem != "__init__"} | {
        p.name for p in src.rglob("*") if (p / "__init__.py").is_file()
    }
    missing = sorted(n for n in names if not re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", text))
    assert not missing, f"docs/layout.md does not name: {missing}"


def test_a_module_name_used_twice_says_why_in_both_docstrings():
    """One name, one place: two modules of one name under src/irbench (say explain/sanity.py, the tests, and
    probes/sanity.py, the probe that runs them) each name the other in their docstring, with the reason."""
    import ast
    from collections import defaultdict

    src = ROOT / "src" / "irbench"
    by_stem: dict[str, list[Path]] = defaultdict(list)
    for path in src.rglob("*.py"):
        if path.stem != "__init__":
            by_stem[path.stem].append(path)
    for paths in by_stem.values():
        if len(paths) < 2:
            continue
        for path in paths:
            doc = ast.get_docstring(ast.parse(path.read_text())) or ""
            others = [
                ".".join(("irbench", *p.relative_to(src).with_suffix("").parts)) for p in paths if p != path
            ]
            assert "Why two modules of this name" in doc, f"{path.relative_to(ROOT)}: says not why"
            assert all(o in " ".join(doc.split()) for o in others), (
                f"{path.relative_to(ROOT)}: names not {others}"
            )
