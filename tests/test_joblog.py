import pytest

from irbench.joblog import JobLog, run_job


def test_job_log_names_the_job_on_stderr_and_keeps_the_file_plain(tmp_path, capsys):
    path = tmp_path / "logs" / "vision" / "train" / "synthetic_shapes" / "standard" / "seed0.log"
    log = JobLog(path)
    log("epoch=1 train_loss=0.5")
    err = capsys.readouterr().err
    assert err.startswith("vision/train/synthetic_shapes/standard/seed0 [") and "epoch=1" in err
    assert path.read_text().startswith("[") and "epoch=1 train_loss=0.5" in path.read_text()
    JobLog(None)("no file")
    assert capsys.readouterr().err.startswith("[")


def test_ctrl_c_in_a_job_is_one_line_and_exit_130(tmp_path, capsys):
    def interrupted(log):
        log("epoch=1")
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exit_:
        run_job(interrupted, tmp_path / "logs" / "vision" / "train" / "d" / "v" / "seed0.log")
    assert exit_.value.code == 130
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "interrupted (Ctrl-C)" in lines[1] and "rerun" in lines[1]
