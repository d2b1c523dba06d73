"""The README's result blocks are generated from a run's files and cannot drift from them."""

import pytest

from irbench.errors import IrbenchError
from irbench.readme import fill, rewrite

from .conftest import ROOT

TEMPLATE = """# title

<!-- irbench:begin tables/vision.md#Clean and under attack -->
stale numbers
<!-- irbench:end -->

prose stays

<!-- irbench:begin run.md -->
<!-- irbench:end -->
"""


def _results(tmp_path):
    (tmp_path / "tables").mkdir(parents=True)
    (tmp_path / "tables/vision.md").write_text(
        "# vision\n\n## Clean and under attack\n\n| a |\n|---|\n| 1 |\n\n### sub\n\nkept\n"
        "\n## Cost\n\n| b |\n"
    )
    (tmp_path / "run.md").write_text("Run: 12 s.\n")
    return tmp_path


def test_blocks_are_replaced_by_their_section_or_file_and_prose_is_kept(tmp_path):
    out = fill(TEMPLATE, _results(tmp_path))
    assert (
        "stale numbers" not in out and "| a |\n|---|\n| 1 |\n\n### sub\n\nkept\n<!-- irbench:end -->" in out
    )
    assert "| b |" not in out  # the next section at the same level ends the block
    assert "prose stays" in out and "<!-- irbench:begin run.md -->\nRun: 12 s.\n<!-- irbench:end -->" in out
    assert fill(out, tmp_path) == out  # idempotent


def test_rewrite_checks_and_writes(tmp_path):
    results = _results(tmp_path / "r")
    readme = tmp_path / "README.md"
    readme.write_text(TEMPLATE)
    assert rewrite(readme, results, check=True) is False and readme.read_text() == TEMPLATE
    assert rewrite(readme, results) is False and rewrite(readme, results, check=True) is True


def test_missing_section_file_or_end_marker_is_named(tmp_path):
    results = _results(tmp_path)
    with pytest.raises(IrbenchError, match="no section headed 'Nope'"):
        fill("<!-- irbench:begin tables/vision.md#Nope -->\n<!-- irbench:end -->", results)
    with pytest.raises(IrbenchError, match="tables/lime.md.*does not exist"):
        fill("<!-- irbench:begin tables/lime.md -->\n<!-- irbench:end -->", results)
    with pytest.raises(IrbenchError, match="README.md, line 2: .* has no '<!-- irbench:end -->'"):
        fill("x\n<!-- irbench:begin run.md -->\n", results)


def test_the_readme_blocks_name_files_a_run_writes():
    """Every block of the shipped README and results page names a results file the workflow (or the
    benchmark) writes."""
    import re

    from irbench.readme import GENERATED

    text = "\n".join((ROOT / name).read_text() for name in GENERATED)
    sources = re.findall(r"<!-- irbench:begin ([^#>]+?)(?:#[^>]+)? -->", text)
    assert sources, "the README has no generated blocks"
    allowed = {"report.md", "run.md"} | {f"tables/{s}.md" for s in ("vision", "mer", "lime")}
    assert set(sources) <= allowed
    assert text.count("<!-- irbench:begin") == text.count("<!-- irbench:end -->")
