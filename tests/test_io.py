import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from irbench.errors import IrbenchError
from irbench.io import atomic_path, load_torch, read_json, save_torch, write_json


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


def test_outputs_get_the_umask_permissions_not_the_temporary_files():
    import os
    import stat
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        code = (
            "import os, sys; os.umask(0o022); from irbench.io import write_json, save_torch; "
            "write_json({'a': 1}, sys.argv[1] + '/r.json'); save_torch({}, sys.argv[1] + '/m.pt')"
        )
        subprocess.run([sys.executable, "-c", code, d], check=True)
        for name in ("r.json", "m.pt"):
            assert stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode) == 0o644, name


class _Thing:
    """A class torch's weights-only loader refuses."""


def test_json_is_strict_and_an_unreadable_torch_file_says_delete_and_rerun(tmp_path):
    import json

    write_json({"a": float("nan"), "b": [1.0, float("inf")], "c": 0.5}, tmp_path / "m.json")
    assert json.loads((tmp_path / "m.json").read_text(), parse_constant=lambda c: 1 / 0) == {
        "a": None,
        "b": [1.0, None],
        "c": 0.5,
    }
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(IrbenchError, match=r"junk.pt: cannot be read .*; delete .*junk.pt and rerun$"):
        load_torch(tmp_path / "junk.pt")
    import torch

    torch.save({"x": _Thing()}, tmp_path / "obj.pt")  # an arbitrary object: not loadable with weights_only
    with pytest.raises(IrbenchError) as err:
        load_torch(tmp_path / "obj.pt")
    assert "weights_only" not in str(err.value) and "more than tensors" in str(err.value)


def _tmpfs(folder: Path, size: str) -> bool:
    """Mount a tmpfs of `size` on `folder` (root only); False where mounting is not allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0  # fmt: skip


def test_a_full_disk_is_one_line_naming_the_file_and_keeps_what_was_there(tmp_path):
    disk = tmp_path / "disk"
    if shutil.which("mount") is None or not _tmpfs(disk, "256k"):
        pytest.skip("mounting a small tmpfs is not allowed here (needs root)")
    try:
        ckpt = disk / "seed0.pt"
        save_torch({"epoch": 1}, ckpt)  # the previous checkpoint
        with pytest.raises(IrbenchError) as err:
            save_torch({"weights": torch.zeros(200_000)}, ckpt)  # 800 kB onto a 256 kB disk
        message = str(err.value)
        assert "\n" not in message and str(ckpt) in message and "No space left on device" in message
        assert "free space" in message
        assert load_torch(ckpt) == {"epoch": 1}  # kept, and no temporary file left beside it
        assert [p.name for p in disk.iterdir()] == ["seed0.pt"]
        with pytest.raises(IrbenchError, match=r"record\.json.*No space left on device"):
            write_json({"x": "y" * 400_000}, disk / "record.json")
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], capture_output=True)  # lazy: a handle may be open


def test_a_truncated_record_says_to_delete_it_and_rerun(tmp_path):
    path = tmp_path / "seed0.json"
    path.write_text('{"metrics": {"acc": 0.')
    with pytest.raises(IrbenchError, match=r"seed0\.json: not valid JSON .*delete .*seed0\.json and rerun"):
        read_json(path)
