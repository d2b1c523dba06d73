from irbench.joblog import JobLog


def test_job_log_names_the_job_on_stderr_and_keeps_the_file_plain(tmp_path, capsys):
    path = tmp_path / "logs" / "vision" / "train" / "synthetic_shapes" / "standard" / "seed0.log"
    log = JobLog(path)
    log("epoch=1 train_loss=0.5")
    err = capsys.readouterr().err
    assert err.startswith("vision/train/synthetic_shapes/standard/seed0 [") and "epoch=1" in err
    assert path.read_text().startswith("[") and "epoch=1 train_loss=0.5" in path.read_text()
    JobLog(None)("no file")
    assert capsys.readouterr().err.startswith("[")
