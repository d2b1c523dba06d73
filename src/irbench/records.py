"""Per-seed records: what identifies a run (RunKey), and writing and reading the JSON records that the
train and evaluate jobs leave (written atomically). The files are the truth; irbench.tracking mirrors them
to MLflow, reading them back (this module imports nothing of it)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from irbench.io import read_json, write_json
from irbench.machine import describe

if TYPE_CHECKING:  # pandas is imported where records are read, not by every train and evaluate job
    import pandas as pd

ID_COLUMNS = ("study", "dataset", "variant", "seed")


@dataclass(frozen=True)
class RunKey:
    """What identifies a seed's run: study, dataset, variant, seed and the training configuration hash."""

    study: str
    dataset: str
    variant: str
    seed: int
    config_hash: str

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> RunKey:
        """The key a training metrics file or an evaluation record carries in its identifying fields."""
        return cls(rec["study"], rec["dataset"], rec["variant"], int(rec["seed"]), rec["config_hash"])

    @property
    def parent(self) -> str:
        return f"{self.study}/{self.dataset}/{self.variant}/{self.config_hash}"

    @property
    def child(self) -> str:
        return f"{self.parent}/seed{self.seed}"

    def ids(self) -> dict[str, Any]:
        """The record's identifying fields."""
        return {
            "study": self.study,
            "dataset": self.dataset,
            "variant": self.variant,
            "seed": self.seed,
            "config_hash": self.config_hash,
        }


def write_record(
    key: RunKey,
    metrics: Mapping[str, Any],
    extra: Mapping[str, Any],
    *,
    output: str | os.PathLike,
    device: str,
    started: float,
) -> dict[str, Any]:
    """Write an evaluation record (ids, metrics, `extra`, device, wall time since `started`) atomically."""
    record = {
        **key.ids(),
        "metrics": dict(metrics),
        **extra,
        "device": device,
        "machine": describe(device),  # numbers are bit-identical on one machine, not across machines
        "wall_s": round(time.perf_counter() - started, 2),
    }
    write_json(record, output)
    return record


def load_records(paths: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per (study, dataset, variant, seed): the metrics of its records, merged."""
    rows: dict[tuple, dict[str, Any]] = {}
    for p in paths:
        rec = read_json(p)
        key = tuple(rec[k] for k in ID_COLUMNS)
        rows.setdefault(key, dict(zip(ID_COLUMNS, key, strict=True))).update(rec["metrics"])
    import pandas as pd

    return pd.DataFrame(list(rows.values()))


def check_readable(paths: Iterable[str | os.PathLike]) -> None:
    """Before any job: every existing record of the run reads as JSON, so a record truncated by a crash
    stops the run in one line (delete it and rerun) instead of failing the job that aggregates it."""
    for path in paths:
        if os.path.isfile(path):
            read_json(path)
