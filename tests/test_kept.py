"""Results kept through a failed rerun (irbench.kept): what was there before the run is put back where a
failed job's outputs went missing, and nothing present is touched."""

from __future__ import annotations

from irbench import kept


def test_missing_outputs_come_back_with_their_previous_content(tmp_path):
    (tmp_path / "results").mkdir()
    record, table = tmp_path / "results" / "seed0.json", tmp_path / "results" / "table.md"
    record.write_text('{"acc": 0.9}')
    table.write_text("| acc |")
    assert kept.keep(["results/seed0.json", "results/table.md", "results/new.json"], tmp_path) == 2
    assert (tmp_path / kept.KEPT / "results" / "seed0.json").stat().st_ino == record.stat().st_ino  # a link
    record.unlink()  # Snakemake deletes a job's outputs before it runs it
    table.write_text("| acc | new |")  # a job that finished: its new output stays
    back = kept.restore(["results/seed0.json", "results/table.md", "results/new.json"], tmp_path)
    assert back == ["results/seed0.json"]
    assert record.read_text() == '{"acc": 0.9}' and table.read_text() == "| acc | new |"
    assert not (tmp_path / "results" / "new.json").exists()


def test_a_rewritten_output_keeps_the_old_version_until_the_run_succeeds(tmp_path):
    """Outputs are replaced by rename (irbench.io): the kept link still holds the previous content."""
    out = tmp_path / "m.json"
    out.write_text("old")
    kept.keep(["m.json"], tmp_path)
    new = tmp_path / "m.json.tmp"
    new.write_text("half-written")
    new.replace(out)
    out.unlink()
    assert kept.restore(["m.json"], tmp_path) == ["m.json"] and out.read_text() == "old"
    kept.forget(tmp_path)
    assert not (tmp_path / kept.KEPT).exists()


def test_a_folder_output_is_kept_and_put_back_whole(tmp_path):
    folder = tmp_path / "results" / "metrics" / "vision"
    folder.mkdir(parents=True)
    (folder / "shapes.standard.json").write_text('{"acc_clean": 0.9}')
    (folder / "shapes.l2_robust.json").write_text('{"acc_clean": 0.8}')
    assert kept.keep(["results/metrics/vision"], tmp_path) == 1
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    assert kept.restore(["results/metrics/vision"], tmp_path) == ["results/metrics/vision"]
    assert sorted(p.name for p in folder.iterdir()) == ["shapes.l2_robust.json", "shapes.standard.json"]
