import shutil
import time

import mlflow
import pytest

from irbench.io import read_json, write_json
from irbench.records import RunKey
from irbench.tracking import flatten, live, mirror, mirror_eval, mirror_study, shown, tracking_uri


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # jobs and the MLflow UI run in the project
    return {
        "enabled": True,
        "tracking_uri": "sqlite:///mlruns/mlflow.db",
        "artifact_root": "mlruns/artifacts",
    }


def test_parent_per_variant_child_per_seed_with_tags_metrics_and_artifacts(tmp_path, settings):
    art = tmp_path / "curve.txt"
    art.write_text("x")
    history = [{"epoch": 1, "train_loss": 2.0}, {"epoch": 2, "train_loss": 1.0}]
    messages = []
    ids = [
        mirror(
            settings,
            RunKey("vision", "toy", "standard", seed, "abc"),
            params={"a": {"b": 1}},
            history=history,
            metrics={"acc": 0.5},
            artifacts=[art],
            workdir=tmp_path,
            log=messages.append,
        )
        for seed in (0, 1)
    ]
    again = mirror(
        settings,
        RunKey("vision", "toy", "standard", 0, "abc"),
        metrics={"acc_clean": 0.9},
        stage="eval",
        workdir=tmp_path,
        log=messages.append,
    )
    assert None not in ids and again == ids[0], messages
    client = mlflow.MlflowClient(tracking_uri(settings, tmp_path))
    exp = client.get_experiment_by_name("vision")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    child = client.get_run(ids[0])
    assert child.data.tags["seed"] == "0" and child.data.tags["config_hash"] == "abc"
    assert {"study", "dataset", "variant", "git_commit"} <= set(child.data.tags)
    assert child.data.params["a.b"] == "1"
    assert child.data.metrics["eval/acc_clean"] == 0.9
    assert [m.step for m in client.get_metric_history(ids[0], "train/train_loss")] == [1, 2]
    assert [a.path for a in client.list_artifacts(ids[0], "train")] == ["train/curve.txt"]


def _log_seed(settings, workdir, seed, **kw):
    art = workdir / f"record{seed}.json"
    art.write_text("{}")
    messages = []
    run_id = mirror(
        settings,
        RunKey("vision", "toy", "standard", seed, "abc"),
        artifacts=[art],
        workdir=workdir,
        log=messages.append,
        **kw,
    )
    assert run_id, messages
    return run_id


def test_runs_carry_real_times_and_the_parent_the_mean_and_std_over_seeds(tmp_path, settings):
    began = time.time() - 100
    history = [{"epoch": e, "train_loss": 1.0 / e, "epoch_s": 30.0} for e in (1, 2, 3)]
    ids = [
        _log_seed(settings, tmp_path, seed, metrics={"acc": acc}, history=history, started_at=began)
        for seed, acc in ((0, 0.4), (1, 0.6))
    ]
    client = mlflow.MlflowClient(tracking_uri(settings, tmp_path))
    child = client.get_run(ids[0])
    assert abs(child.info.start_time - began * 1000) < 1000
    assert child.info.end_time - child.info.start_time >= 99_000
    stamps = [m.timestamp for m in client.get_metric_history(ids[0], "train/train_loss")]
    assert stamps == [child.info.start_time + k * 30_000 for k in (1, 2, 3)]
    parent = client.get_run(child.data.tags["mlflow.parentRunId"])
    assert parent.data.metrics["train/acc_mean"] == pytest.approx(0.5)
    assert parent.data.metrics["train/acc_std"] == pytest.approx(0.1414, abs=1e-4)
    assert parent.data.metrics["train/acc_n_seeds"] == 2
    second = client.get_run(ids[1])
    # a parent starts when its first seed is logged (concurrent jobs agree on it by creation order) and
    # ends with its last seed
    assert child.info.start_time < parent.info.start_time < child.info.end_time
    assert parent.info.end_time == second.info.end_time >= child.info.end_time
    exp = client.get_experiment_by_name("vision")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"


def test_artifacts_follow_a_moved_project(tmp_path, settings, monkeypatch):
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    first = _log_seed(settings, old, 0)
    client = mlflow.MlflowClient(tracking_uri(settings, old))
    assert client.get_experiment_by_name("vision").artifact_location == "mlruns/artifacts/vision"
    shutil.copytree(old, new)
    shutil.rmtree(old)
    second = _log_seed(settings, new, 1)
    assert not old.exists()
    monkeypatch.chdir(new)  # the MLflow UI runs in the project, as the README says
    client = mlflow.MlflowClient(tracking_uri(settings, new))
    for run_id, name in ((first, "record0.json"), (second, "record1.json")):
        assert [a.path for a in client.list_artifacts(run_id, "train")] == [f"train/{name}"]
        assert (new / client.get_run(run_id).info.artifact_uri / "train" / name).is_file()


def test_an_absolute_artifact_location_of_an_older_store_is_made_relative(tmp_path, settings):
    client = mlflow.MlflowClient(tracking_uri(settings, tmp_path))
    client.create_experiment("vision", artifact_location=(tmp_path / "elsewhere").as_uri())
    run_id = _log_seed(settings, tmp_path, 0)
    assert client.get_run(run_id).info.artifact_uri.startswith("mlruns/artifacts/vision/")
    assert not (tmp_path / "elsewhere").exists()


def test_failing_tracking_reports_and_returns_none(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "unknownscheme://nowhere")
    messages = []
    assert (
        mirror(settings, RunKey("vision", "toy", "x", 0, "h"), workdir=tmp_path, log=messages.append) is None
    )
    assert "results are kept" in messages[-1]


def test_disabled_tracking_does_nothing(tmp_path, settings):
    assert mirror({**settings, "enabled": False}, RunKey("v", "d", "x", 0, "h"), workdir=tmp_path) is None
    assert not (tmp_path / "mlruns").exists()


def test_flatten_nested_params():
    assert flatten({"a": {"b": 1, "c": [1, 2]}, "d": None}) == {"a.b": "1", "a.c": "[1, 2]", "d": "None"}


def _files(folder, seed, acc):
    """A training's metrics file and an evaluation record, as the train and evaluate jobs write them."""
    ids = {"study": "vision", "dataset": "toy", "variant": "standard", "seed": seed, "config_hash": "abc"}
    history = [{"epoch": e, "train_loss": 1.0 / e, "epoch_s": 2.0} for e in (1, 2)]
    train = folder / f"train{seed}.json"
    write_json({**ids, "spec": {"objective": "standard"}, "history": history, "best_epoch": 2,
                "best_score": 0.7, "wall_s": 4.0}, train)  # fmt: skip
    record = folder / f"eval{seed}.json"
    write_json({**ids, "metrics": {"acc_clean": acc}, "eval_spec": {"n_eval": 10}, "wall_s": 1.0}, record)
    return train, record


def test_the_aggregate_job_mirrors_every_file_once_when_the_jobs_do_not_log_live(tmp_path, settings):
    files = [_files(tmp_path, seed, acc) for seed, acc in ((0, 0.5), (1, 0.7))]
    trains, evals = [t for t, _ in files], [r for _, r in files]
    assert live(settings) and not live({**settings, "live": False})
    # live jobs logged their own files: the aggregate job leaves MLflow alone
    assert mirror_study(settings, trains, evals, workdir=tmp_path) == 0
    assert not (tmp_path / "mlruns").exists()
    deferred = {**settings, "live": False}
    messages = []
    assert mirror_study(deferred, trains, evals, workdir=tmp_path, log=messages.append) == 4
    client = mlflow.MlflowClient(tracking_uri(settings, tmp_path))
    exp = client.get_experiment_by_name("vision")
    children = [r for r in client.search_runs([exp.experiment_id]) if "mlflow.parentRunId" in r.data.tags]
    assert sorted(r.data.tags["seed"] for r in children) == ["0", "1"]
    run = next(r for r in children if r.data.tags["seed"] == "0")
    assert run.data.params["variant.objective"] == "standard" and run.data.params["eval.n_eval"] == "10"
    assert run.data.metrics["eval/acc_clean"] == 0.5 and run.data.metrics["train/best_epoch"] == 2
    assert {a.path for a in client.list_artifacts(run.info.run_id, "train")} == {
        "train/train0.json",
        "train/curves.png",
    }
    parent = client.get_run(run.data.tags["mlflow.parentRunId"])
    assert parent.data.metrics["eval/acc_clean_mean"] == pytest.approx(0.6)
    # a rerun of the aggregate job logs nothing twice: each file is skipped by its content hash
    mirror_study(deferred, trains, evals, workdir=tmp_path, log=messages.append)
    assert sum("already logged" in m for m in messages) == 4
    assert len(client.get_metric_history(run.info.run_id, "train/train_loss")) == 2
    # a changed record is logged again
    write_json({**read_json(evals[0]), "metrics": {"acc_clean": 0.9}}, evals[0])
    assert mirror_eval(deferred, evals[0], workdir=tmp_path, log=messages.append) == run.info.run_id
    assert client.get_run(run.info.run_id).data.metrics["eval/acc_clean"] == 0.9


def test_run_names_lead_with_what_tells_runs_apart_and_metrics_show_as_the_tables_do(tmp_path, settings):
    history = [{"epoch": 1, "train_loss": 0.1 + 0.2, "epoch_s": 1.0}]
    run_id = _log_seed(settings, tmp_path, 3, metrics={"eps": 0.0020000000000000013}, history=history)
    client = mlflow.MlflowClient(tracking_uri(settings, tmp_path))
    child = client.get_run(run_id)
    parent = client.get_run(child.data.tags["mlflow.parentRunId"])
    # the runs table cuts names at about 20 characters: the seed and the variant come first
    assert child.info.run_name == "seed3 · standard · toy" and parent.info.run_name == "standard · toy"
    assert child.data.metrics["train/eps"] == 0.002  # not 0.0020000000000000013
    assert client.get_metric_history(run_id, "train/train_loss")[0].value == 0.3  # not 0.30000000000000004
    assert parent.data.metrics["train/eps_mean"] == 0.002
    assert shown(123456.7) == 123500.0 and shown(-0.000123456) == -0.0001235
