import mlflow
import pytest

from irbench.records import RunKey
from irbench.tracking import flatten, mirror, tracking_uri


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
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
