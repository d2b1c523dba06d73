import pytest

from irbench.errors import IrbenchError
from irbench.io import atomic_path, load_torch, read_json, write_json


def test_failed_write_leaves_neither_target_nor_temporary_file(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_failed_rewrite_keeps_the_previous_result(tmp_path):
    target = tmp_path / "out.json"
    write_json({"a": 1}, target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("{")
            raise RuntimeError
    assert read_json(target) == {"a": 1}


def test_unwritable_folder_and_bad_files_give_one_line_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(IrbenchError, match="cannot write here"):
        write_json({}, blocker / "sub" / "x.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(IrbenchError, match="bad.json: not valid JSON"):
        read_json(tmp_path / "bad.json")
    with pytest.raises(IrbenchError, match="missing.pt: file not found"):
        load_torch(tmp_path / "missing.pt")


def test_results_folder_must_be_a_writable_folder(tmp_path):
    from irbench.io import ensure_writable_dir

    assert ensure_writable_dir(tmp_path / "results").is_dir()
    (tmp_path / "file").write_text("")
    with pytest.raises(IrbenchError, match="file: results folder is not writable"):
        ensure_writable_dir(tmp_path / "file")
