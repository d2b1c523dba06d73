"""Four jobs logging at once lose nothing, to the SQLite store and to a real `mlflow server`; a store
that is down costs the job nothing but a log line."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mlflow
import pytest

from irbench.records import RunKey
from irbench.tracking import mirror

from .services import free_port, mlflow_server

SETTINGS = {
    "enabled": True,
    "tracking_uri": "sqlite:///mlruns/mlflow.db",
    "artifact_root": "mlruns/artifacts",
}
N_JOBS, N_EPOCHS = 4, 5


def _job(workdir: str, seed: int, uri: str | None) -> str | None:
    """One training job's logging: a 5-epoch history, final metrics, params and an artifact."""
    if uri:
        os.environ["MLFLOW_TRACKING_URI"] = uri
    else:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    artifact = Path(workdir) / f"record{seed}.json"
    artifact.write_text(f'{{"seed": {seed}}}')
    history = [{"epoch": e + 1, "loss": 1.0 / (e + 1), "acc": 0.1 * e} for e in range(N_EPOCHS)]
    return mirror(
        SETTINGS,
        RunKey("vision", "toy", "standard", seed, "hash0"),
        params={"seed": seed, "lr": 0.01},
        history=history,
        metrics={"wall_s": 1.0 + seed},
        artifacts=[artifact],
        log=lambda _: None,
        workdir=workdir,
    )


def _run_concurrently(workdir: Path, uri: str | None) -> list[str | None]:
    with ProcessPoolExecutor(N_JOBS, mp_context=__import__("multiprocessing").get_context("spawn")) as pool:
        return list(pool.map(_job, [str(workdir)] * N_JOBS, range(N_JOBS), [uri] * N_JOBS))


def _check_nothing_lost(client: mlflow.MlflowClient, run_ids: list[str | None]) -> None:
    assert all(run_ids) and len(set(run_ids)) == N_JOBS
    exp = client.get_experiment_by_name("vision")
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == N_JOBS  # concurrent creation kept one parent
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parents[0].info.run_id
        assert len(client.get_metric_history(child.info.run_id, "train/loss")) == N_EPOCHS
        assert child.data.metrics["train/wall_s"] == 1.0 + int(child.data.tags["seed"])
        assert child.data.params["seed"] == child.data.tags["seed"]
        files = [f.path for f in client.list_artifacts(child.info.run_id, "train")]
        assert files == [f"train/record{child.data.tags['seed']}.json"]
    # the parent's summary is the one over all seeds, whatever order the jobs logged in
    assert parents[0].data.metrics["train/wall_s_n_seeds"] == N_JOBS
    assert parents[0].data.metrics["train/wall_s_mean"] == pytest.approx(1.0 + (N_JOBS - 1) / 2)


def test_four_jobs_at_once_to_sqlite_lose_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # artifact locations are relative to the project
    ids = _run_concurrently(tmp_path, None)
    _check_nothing_lost(mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"), ids)


@pytest.fixture
def server(tmp_path):
    """A real `mlflow server` on 127.0.0.1, stopped by its own process id."""
    with mlflow_server(tmp_path) as uri:
        yield uri


def test_four_jobs_at_once_to_a_tracking_server_lose_nothing(tmp_path, server):
    work = tmp_path / "work"
    work.mkdir()
    ids = _run_concurrently(work, server)
    _check_nothing_lost(mlflow.MlflowClient(server), ids)
    assert not (work / "mlruns" / "mlflow.db").exists()  # nothing went to the local store


def test_a_tracking_server_that_is_down_costs_a_log_line(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    lines: list[str] = []
    t0 = time.perf_counter()
    out = mirror(
        SETTINGS,
        RunKey("vision", "toy", "standard", 0, "h"),
        metrics={"a": 1.0},
        log=lines.append,
        workdir=tmp_path,
    )
    assert out is None and time.perf_counter() - t0 < 30
    assert len(lines) == 1 and "mlflow: logging failed" in lines[0] and "does not answer" in lines[0]
