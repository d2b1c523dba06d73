"""A run against the README's default-run numbers (irbench.published): means compared within a tolerance
of their spread, and no comparison at all for another configuration."""

from __future__ import annotations

import pandas as pd

from irbench.published import Published, compare, comparison_lines, load, save, snapshot


def _table(clean: float, clean_std: float, robust: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "dataset": "shapes",
                "variant": "standard",
                "n_seeds": 5,
                "acc_clean_mean": clean,
                "acc_clean_std": clean_std,
                "paper_acc_clean": 0.95,
            },
            {
                "dataset": "shapes",
                "variant": "l2_robust",
                "n_seeds": 5,
                "acc_clean_mean": robust,
                "acc_clean_std": 0.01,
            },
        ]
    )


def test_a_run_on_another_machine_is_within_tolerance_not_equal(tmp_path):
    """The issue's case: standard clean 87.8 +- 0.3 here against the README's 86.6 +- 1.5 agrees; a robust
    model 10 points off does not."""
    (tmp_path / "tables").mkdir()
    _table(0.866, 0.015, 0.80).to_csv(tmp_path / "tables" / "vision.csv", index=False)
    published = snapshot(tmp_path, "abc123", "31831ad", "AMD EPYC, 2 cores")
    save(published, tmp_path / "default_run.json")
    assert load(tmp_path / "default_run.json") == published
    assert load(tmp_path / "none.json") is None
    compared = compare(published, {"vision": _table(0.878, 0.003, 0.70)}).set_index("variant")
    assert list(compared["metric"]) == ["acc_clean", "acc_clean"]  # paper columns are not compared
    assert compared.loc["standard", "within"] and not compared.loc["l2_robust", "within"]
    assert abs(compared.loc["standard", "difference"] - 0.012) < 1e-9
    (line,) = comparison_lines(published, "abc123", compared)
    assert "1 of 2 means within tolerance" in line and "commit 31831ad" in line


def test_another_configuration_is_not_compared():
    published = Published("abc123", "31831ad", "a machine", {})
    (line,) = comparison_lines(published, "fff000", pd.DataFrame())
    assert "not the one of the README's default " in line and "not compared" in line
    assert comparison_lines(None, "fff000", pd.DataFrame()) == []


def test_a_file_that_is_not_published_numbers_is_named(tmp_path):
    import pytest

    from irbench.errors import IrbenchError

    (tmp_path / "default_run.json").write_text('{"config_hash": "x"}')
    with pytest.raises(IrbenchError, match="default_run.json: expected the keys fingerprint"):
        load(tmp_path / "default_run.json")
