"""MLflow mirroring: output files are the truth, MLflow mirrors them for browsing.

One experiment per study, a parent run per (dataset, variant, training configuration), a child run per
seed. One route from the files to MLflow: `mirror_train` and `mirror_eval` read a training's metrics file
or an evaluation record and hand it to `mirror`, which never raises (if MLflow fails, the job logs why and
its result files are kept). With `mlflow.live` (the default) each train and evaluate job mirrors its own
file when it ends, so a cluster run can be watched as it goes; without it, the study's aggregate job
mirrors every file of the study in one process (`mirror_study`: one MLflow start-up, about 2.5 s on a CPU,
instead of one per job; what the quick scale does). A file already mirrored (same content) is skipped.
The store is `MLFLOW_TRACKING_URI` when set (a tracking server on a cluster), else the SQLite file named
in params.yaml. Get-or-create of runs is serialised with a file lock, since
concurrent jobs share one SQLite file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from irbench.io import read_json
from irbench.records import RunKey

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


SETTINGS_ENV = "IRBENCH_MLFLOW"


def job_settings(fallback: Mapping[str, Any]) -> dict[str, Any]:
    """The resolved `mlflow` section (after the scale and the user's layers, overlay.yaml included), which
    the workflow hands its jobs in IRBENCH_MLFLOW; `fallback` (Snakemake's raw config) where it is unset.
    Not a rule parameter, so changing where runs are logged retrains nothing."""
    import json

    text = os.environ.get(SETTINGS_ENV)
    return dict(json.loads(text)) if text else dict(fallback)


def tracking_uri(settings: Mapping[str, Any], workdir: str | os.PathLike = ".") -> str:
    """MLFLOW_TRACKING_URI if set; else the configured URI, a relative sqlite path made absolute."""
    uri = os.environ.get("MLFLOW_TRACKING_URI") or settings["tracking_uri"]
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri[len(prefix) :].startswith("/"):
        db = Path(workdir).resolve() / uri[len(prefix) :]
        db.parent.mkdir(parents=True, exist_ok=True)
        uri = prefix + str(db)
    return uri


def git_commit(cwd: str | os.PathLike = ".") -> str:
    """The current git commit (with -dirty if the tree has changes), or 'unknown' outside git."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mapping to dotted keys with string values (MLflow params)."""
    out: dict[str, str] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = str(v)
    return out


SIGNIFICANT = (
    4  # digits of a logged metric: what the tables show, without float noise (0.0020000000000000013)
)


def shown(value: float) -> float:
    """A metric as MLflow shows it: rounded to SIGNIFICANT digits (the files keep full precision)."""
    return float(f"{float(value):.{SIGNIFICANT}g}")


def parent_name(key: RunKey) -> str:
    """A variant's run name: the variant first, so the runs table's narrow name column shows it."""
    return f"{key.variant} · {key.dataset}"


def child_name(key: RunKey) -> str:
    """A seed's run name: the seed first, then what its parent is (the runs table cuts long names)."""
    return f"seed{key.seed} · {key.variant} · {key.dataset}"


def _ms(seconds: float) -> int:
    return int(round(seconds * 1000))


def _get_or_create(
    client,
    experiment_id: str,
    key: str,
    name: str,
    tags: dict[str, str],
    start_ms: int | None,
    parent_id=None,
):
    """The run tagged irbench.key == key, created if absent, starting at `start_ms` (None: now).

    Safe without a lock (a tracking server): if concurrent jobs both create the run, all of them keep the
    earliest-created one and each deletes its own duplicate. That needs start times in creation order, so
    a run that concurrent jobs may create (a parent) starts when it is created (`start_ms` None); a seed's
    run, created by one job at a time, starts when its job's work began.
    """

    def existing() -> list:
        runs = client.search_runs(
            [experiment_id], filter_string=f"tags.`irbench.key` = '{key}'", max_results=20
        )
        return sorted(runs, key=lambda r: (r.info.start_time, r.info.run_id))  # ties: the same everywhere

    found = existing()
    if found:
        return found[0].info.run_id
    tags = {**tags, "irbench.key": key, "mlflow.runName": name}
    if parent_id:
        tags["mlflow.parentRunId"] = parent_id
    run = client.create_run(experiment_id, start_time=start_ms, tags=tags, run_name=name).info
    client.set_terminated(run.run_id, end_time=run.start_time)
    runs = existing()
    keep = runs[0].info.run_id if runs else run.run_id
    if keep != run.run_id:
        client.delete_run(run.run_id)
    return keep


# What the MLflow 3 UI reads to open an experiment on its runs (model training), not on GenAI traces.
KIND_TAG, KIND = "mlflow.experimentKind", "custom_model_development"


def _sqlite_path(uri: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(uri[len(prefix) :]) if uri.startswith(prefix) else None


def _relocate(uri: str, experiment_id: str, location: str) -> None:
    """Store `location` (a path relative to the project) as the experiment's artifact location.

    MLflow's API makes every local location absolute, so a moved or copied project would keep writing
    into the old folder; the SQLite store is updated directly (it holds nothing else of ours to break).
    """
    import sqlite3

    with sqlite3.connect(_sqlite_path(uri)) as db:
        db.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
            (location, int(experiment_id)),
        )


def _experiment_id(client, uri: str, name: str, artifact_root: str, remote: bool) -> str:
    """The study's experiment, created if absent: tagged as model training, and (unless the store is a
    server, which stores artifacts itself) with artifacts under `artifact_root`/`name` relative to the
    project. An experiment whose location is not that relative path (an older, absolute one) is re-pointed."""
    exp = client.get_experiment_by_name(name)
    if exp is None:
        try:
            client.create_experiment(name, tags={KIND_TAG: KIND})
        except Exception:  # another job created it first
            if client.get_experiment_by_name(name) is None:
                raise
        exp = client.get_experiment_by_name(name)
    if not remote and _sqlite_path(uri) is not None:
        location = f"{artifact_root.rstrip('/')}/{name}"
        if exp.artifact_location != location:
            _relocate(uri, exp.experiment_id, location)
    if exp.tags.get(KIND_TAG) != KIND:
        client.set_experiment_tag(exp.experiment_id, KIND_TAG, KIND)
    return exp.experiment_id


def _server_down(uri: str, timeout: float = 5.0) -> str | None:
    """Why a tracking server does not answer its /health endpoint, or None if it does (or is no server)."""
    if not uri.startswith(("http://", "https://")):
        return None
    import urllib.request

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout) as resp:
            return None if resp.status == 200 else f"{uri}/health answered {resp.status}"
    except OSError as exc:
        return f"{uri} does not answer ({exc})"


def _history_metrics(history: Sequence[Mapping[str, float]], stage: str, start_ms: int, now_ms: int) -> list:
    """Per-epoch metrics, each stamped with when its epoch ended (from the rows' `epoch_s`, else now)."""
    from mlflow.entities import Metric

    out, elapsed = [], 0.0
    for row in history:
        elapsed += float(row.get("epoch_s", 0.0))
        stamp = min(start_ms + _ms(elapsed), now_ms) if "epoch_s" in row else now_ms
        for name, value in row.items():
            if name != "epoch" and isinstance(value, int | float):
                out.append(Metric(f"{stage}/{name}", shown(value), stamp, int(row["epoch"])))
    return out


def _summarise_parent(client, experiment_id: str, parent: str, names: Sequence[str], now_ms: int) -> None:
    """Log to the parent run the mean and std (ddof 1) over its seeds of each of `names`, and end it when
    its last seed's run ended. The step is the number of seeds, so MLflow's latest value is the one
    over the most seeds even when concurrent jobs log out of order."""
    import numpy as np
    from mlflow.entities import Metric

    children = client.search_runs([experiment_id], filter_string=f"tags.`mlflow.parentRunId` = '{parent}'")
    summary = []
    for name in names:
        values = [c.data.metrics[name] for c in children if name in c.data.metrics]
        if values:
            n = len(values)
            summary.append(Metric(f"{name}_mean", shown(np.mean(values)), now_ms, n))
            if n > 1:
                summary.append(Metric(f"{name}_std", shown(np.std(values, ddof=1)), now_ms, n))
            summary.append(Metric(f"{name}_n_seeds", float(n), now_ms, n))
    if summary:
        client.log_batch(parent, metrics=summary)
    ends = [c.info.end_time for c in children if c.info.end_time]
    if ends:
        client.set_terminated(parent, end_time=max(ends))


def _log_artifacts(
    client, run_id: str, paths: Sequence[str | os.PathLike], stage: str, workdir: Path
) -> None:
    """Copy `paths` into the run's artifacts under `stage`; a relative artifact location is the project's."""
    uri = client.get_run(run_id).info.artifact_uri
    if urlparse(uri).scheme or Path(uri).is_absolute():  # a server's, or an older store's absolute one
        for path in paths:
            client.log_artifact(run_id, str(path), artifact_path=stage)
        return
    from mlflow.store.artifact.local_artifact_repo import LocalArtifactRepository

    repo = LocalArtifactRepository(str(workdir / uri))
    for path in paths:
        repo.log_artifact(str(path), artifact_path=stage)


def live(settings: Mapping[str, Any]) -> bool:
    """Whether each job mirrors its own files (`mlflow.live`), rather than the study's aggregate job."""
    return bool(settings.get("enabled", True)) and bool(settings.get("live", True))


def _file_sha1(path: str | os.PathLike) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()


def mirror_train(
    settings: Mapping[str, Any],
    metrics_path: str | os.PathLike,
    *,
    log: Callable[[str], None] = print,
    workdir: str | os.PathLike = ".",
) -> str | None:
    """Mirror a finished training from its metrics file (ids, spec, history, best epoch, wall time): the
    spec as params, the per-epoch history, the final numbers and a plot of the curves."""
    rec = read_json(metrics_path)
    key = RunKey.from_record(rec)
    metrics = {"best_epoch": rec["best_epoch"], "wall_s": rec["wall_s"]}
    if rec.get("best_score") is not None:
        metrics["best_score"] = rec["best_score"]
    # the curve plot lives only until MLflow has copied it
    with tempfile.TemporaryDirectory(prefix="irbench-curves-") as tmp:
        title = f"{key.study} {key.dataset} {key.variant} seed {key.seed}"
        return mirror(
            settings,
            key,
            params={"variant": dict(rec.get("spec", {})), "seed": key.seed, "dataset": key.dataset},
            history=rec["history"],
            metrics=metrics,
            artifacts=[metrics_path, lambda: curves_png(rec["history"], title, tmp)],
            stage="train",
            log=log,
            workdir=workdir,
            # a resumed run began when its first, killed attempt did
            started_at=os.path.getmtime(metrics_path) - rec["wall_s"],
            content=_file_sha1(metrics_path),
        )


def mirror_eval(
    settings: Mapping[str, Any],
    record_path: str | os.PathLike,
    *,
    log: Callable[[str], None] = print,
    workdir: str | os.PathLike = ".",
) -> str | None:
    """Mirror an evaluation record (ids, metrics, the evaluate section, wall time) to its seed's run."""
    rec = read_json(record_path)
    return mirror(
        settings,
        RunKey.from_record(rec),
        params={"eval": dict(rec.get("eval_spec", {}))},
        metrics=rec["metrics"],
        artifacts=[record_path],
        stage="eval",
        log=log,
        workdir=workdir,
        started_at=os.path.getmtime(record_path) - rec.get("wall_s", 0.0),
        content=_file_sha1(record_path),
    )


def mirror_card(
    settings: Mapping[str, Any],
    record_path: str | os.PathLike,
    card: Sequence[str | os.PathLike],
    *,
    log: Callable[[str], None] = print,
    workdir: str | os.PathLike = ".",
) -> str | None:
    """Log a model's card (its Markdown and HTML pages) to the model's seed run, found from its record."""
    rec = read_json(record_path)
    return mirror(
        settings,
        RunKey.from_record(rec),
        artifacts=list(card),
        stage="card",
        log=log,
        workdir=workdir,
        content=_file_sha1(card[0]),
    )


def mirror_study(
    settings: Mapping[str, Any],
    train_paths: Sequence[str | os.PathLike],
    eval_paths: Sequence[str | os.PathLike],
    *,
    log: Callable[[str], None] = print,
    workdir: str | os.PathLike = ".",
) -> int:
    """Mirror every training and evaluation file of a study in this one process (when `mlflow.live` is
    off); returns how many were logged. Files mirrored before with the same content are skipped."""
    if not settings.get("enabled", True) or live(settings):
        return 0
    done = [mirror_train(settings, p, log=log, workdir=workdir) for p in train_paths]
    done += [mirror_eval(settings, p, log=log, workdir=workdir) for p in eval_paths]
    return sum(r is not None for r in done)


def mirror(
    settings: Mapping[str, Any],
    key: RunKey,
    *,
    params: Mapping[str, Any] | None = None,
    metrics: Mapping[str, float] | None = None,
    history: Sequence[Mapping[str, float]] | None = None,
    artifacts: Sequence[str | os.PathLike | Callable[[], Path]] = (),
    stage: str = "train",
    log: Callable[[str], None] = print,
    workdir: str | os.PathLike = ".",
    started_at: float | None = None,
    content: str | None = None,
) -> str | None:
    """Log params, per-epoch history, final metrics, tags and artifacts to the seed's child run, and the
    mean and std over seeds of the final metrics to the variant's parent run.

    `started_at` (Unix seconds, default now) is when the job's work began: a new run starts then, and every
    run touched ends now. An artifact may be a callable that makes the file (called only if logged).
    `content` (a hash of the mirrored file) is tagged on the run; a run that already carries the same one
    is left as it is. Returns the run id, or None (after logging why) if tracking is disabled or MLflow
    fails.
    """
    if not settings.get("enabled", True):
        return None
    try:
        import mlflow
        from filelock import FileLock
        from mlflow.entities import Metric, Param, RunTag

        now_ms = _ms(time.time())
        start_ms = min(_ms(started_at), now_ms) if started_at is not None else now_ms
        uri = tracking_uri(settings, workdir)
        tags = {
            "study": key.study,
            "dataset": key.dataset,
            "variant": key.variant,
            "config_hash": key.config_hash,
            "git_commit": git_commit(workdir),
        }
        down = _server_down(uri)
        if down:
            raise ConnectionError(down)
        remote = uri.startswith(("http://", "https://"))
        root = Path(workdir).resolve()
        lock_dir = root / settings["artifact_root"]
        lock_dir.mkdir(parents=True, exist_ok=True)
        # A local store is written under a file lock, which also covers store creation (concurrent first use
        # of one SQLite file races its schema migration); a server serialises writes itself.
        lock = nullcontext() if remote else FileLock(str(lock_dir / ".irbench.lock"), timeout=600)
        with lock:
            client = mlflow.MlflowClient(tracking_uri=uri)
            exp = _experiment_id(client, uri, key.study, settings["artifact_root"], remote)
            parent = _get_or_create(client, exp, key.parent, parent_name(key), tags, None)
            child = _get_or_create(
                client,
                exp,
                key.child,
                child_name(key),
                {**tags, "seed": str(key.seed)},
                start_ms,
                parent_id=parent,
            )
            run = client.get_run(child).data
            if content is not None and run.tags.get(f"irbench.{stage}_sha1") == content:
                log(f"mlflow: {stage} already logged to run {child}")
                return child
            step_metrics = _history_metrics(history or [], stage, start_ms, now_ms)
            final = [Metric(f"{stage}/{k}", shown(v), now_ms, 0) for k, v in (metrics or {}).items()]
            new_params = {k: v for k, v in flatten(params or {}).items() if k not in run.params}
            done_tags = [RunTag(f"irbench.{stage}_done", "true")]
            if content is not None:
                done_tags.append(RunTag(f"irbench.{stage}_sha1", content))
            client.log_batch(
                child,
                metrics=step_metrics + final,
                params=[Param(k, v[:6000]) for k, v in new_params.items()],
                tags=done_tags,
            )
            _log_artifacts(client, child, [a() if callable(a) else a for a in artifacts], stage, root)
            client.set_terminated(child, end_time=_ms(time.time()))  # after its parent was created
            _summarise_parent(client, exp, parent, [m.key for m in final], now_ms)
        log(f"mlflow: logged {stage} to run {child} at {uri}")
        return child
    except Exception as exc:  # noqa: BLE001 - tracking must never lose a result
        log(
            f"mlflow: logging failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "results are kept in the output files"
        )
        return None


def curves_png(history: Sequence[Mapping[str, float]], title: str, folder: str | os.PathLike) -> Path:
    """Plot the per-epoch history (losses and accuracies) to `folder`/curves.png and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, [r["train_loss"] for r in history], label="train loss")
    ax1.set_xlabel("epoch")
    ax1.legend()
    for name in ("train_acc", "val_acc", "val_adv_acc", "val_corr"):
        if history and name in history[0]:
            ax2.plot(epochs, [r[name] for r in history], label=name)
    ax2.set_xlabel("epoch")
    ax2.set_ylim(-0.1 if history and "val_corr" in history[0] else 0, 1)
    if ax2.lines:
        ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(folder) / "curves.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
