"""docs/recipes.md against the configuration: every tabled value is what `scale: paper` resolves to, and
every difference kept on purpose has a restore that validates and changes its key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from irbench.config import deep_merge, load_yaml, resolve, study_section

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "recipes.md"
STATUSES = ("same", "removed", "kept")


@dataclass(frozen=True)
class Row:
    setting: str
    key: str  # "study[/dataset]:dotted.path" or "" (a difference in code, not a key)
    value: str
    difference: str


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def rows() -> list[Row]:
    """The rows of every table on the page whose header starts with `Setting`."""
    out, in_table = [], False
    for line in PAGE.read_text().splitlines():
        if line.startswith("| Setting |"):
            in_table = True
            continue
        if not line.startswith("|"):
            in_table = False
            continue
        if in_table and not line.startswith("|---"):
            setting, _paper, _code, key, value, difference = _cells(line)
            key = key.strip("`") if re.fullmatch(r"`[\w/]*:[\w.]+`", key) else ""
            out.append(Row(setting, key, value.strip("`"), difference))
    return out


def lookup(cfg: dict, key: str):
    """The value at `study[/dataset]:path` of a resolved configuration (None where the key is absent)."""
    where, path = key.split(":", 1)
    node = cfg
    if where:
        study, _, dataset = where.partition("/")
        node = study_section(cfg, study, dataset or None)
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def paper(user: dict | None = None) -> dict:
    return resolve(load_yaml(ROOT / "params.yaml"), user=deep_merge({"scale": "paper"}, user or {}))


ROWS = rows()
KEYED = [r for r in ROWS if r.key]


def test_the_page_has_its_tables_and_every_row_a_known_status():
    assert len(KEYED) >= 60, len(KEYED)
    for row in ROWS:
        assert row.difference.split(":")[0].split(" ")[0] in STATUSES, row


@pytest.mark.parametrize("row", KEYED, ids=[r.key for r in KEYED])
def test_each_tabled_value_is_what_the_paper_scale_resolves_to(row):
    assert lookup(paper(), row.key) == yaml.safe_load(row.value), row.setting


RESTORES = [
    (r, m.group(1)) for r in KEYED if (m := re.search(r"Restore(?: the nearest)?: `(\{.*\})`", r.difference))
]


def test_every_kept_difference_says_how_to_restore_the_reference():
    for row in KEYED:
        if row.difference.startswith("kept"):
            assert "Restore" in row.difference, row.setting


@pytest.mark.parametrize("row,restore", RESTORES, ids=[r.key for r, _ in RESTORES])
def test_each_restore_validates_and_changes_its_key(row, restore):
    restored = paper(yaml.safe_load(restore))
    assert lookup(restored, row.key) != lookup(paper(), row.key), row.setting
