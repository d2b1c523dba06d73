"""An evaluate job killed mid-way (a time limit, a preemption, a lost node) loses no finished probe.

Each probe's output is saved as it finishes, one file per probe in a folder beside the training
checkpoints, under a fingerprint of what the job evaluates (the model, data and input files as they are on
disk, the settings, the seed). A rerun takes the finished probes whose fingerprint matches and runs the
rest; each probe starts from the job's seed, so the record equals an uninterrupted run's. The folder is
removed once the record is written.
"""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from irbench.config import config_hash
from irbench.data.tensors import Split
from irbench.errors import IrbenchError
from irbench.io import load_torch, save_torch
from irbench.probes import ProbeOutput
from irbench.probes._threats import AttackRuns, Run
from irbench.probes.attributions import AttributionMaps

# irbench's own types that probes hand each other (their `handoff`; loaded with weights_only, as every
# file); an output holding another type is not kept, and that probe runs again.
HANDOFF_TYPES = [Split, Run, AttackRuns, AttributionMaps]


@dataclass(frozen=True)
class ProbeCheckpoints:
    """The per-probe checkpoint folder of one evaluate job and the fingerprint its files must carry."""

    folder: Path
    fingerprint: str
    log: Callable[[str], None] = print

    @classmethod
    def for_job(
        cls,
        folder: str | os.PathLike,
        files: Sequence[str | os.PathLike],
        settings: Mapping[str, Any],
        log: Callable[[str], None] = print,
    ) -> ProbeCheckpoints:
        """Fingerprint the job by its input files (path, size, modification time) and its settings."""
        stamps = [(str(f), os.stat(f).st_size, os.stat(f).st_mtime_ns) for f in files]
        return cls(Path(folder), config_hash({"files": stamps, "settings": settings}), log)

    def load(self) -> dict[str, tuple[ProbeOutput, float]]:
        """The finished probes of an interrupted run of this same job: {key: (output, seconds)}."""
        kept: dict[str, tuple[ProbeOutput, float]] = {}
        for path in sorted(self.folder.glob("*.pt")) if self.folder.is_dir() else []:
            try:
                with torch.serialization.safe_globals(HANDOFF_TYPES):
                    saved = load_torch(path)
            except IrbenchError as exc:  # a file cut by the kill: that probe runs again
                self.log(f"probe checkpoint not used: {exc}")
                continue
            if saved.get("fingerprint") == self.fingerprint:
                output = ProbeOutput(
                    saved["metrics"], saved["data"], saved["artifacts"], saved.get("handoff")
                )
                kept[path.stem] = (output, float(saved["seconds"]))
        return kept

    def save(self, key: str, output: ProbeOutput, seconds: float) -> None:
        """Keep one finished probe's output (atomically); one that cannot be saved just runs again."""
        state = {
            "fingerprint": self.fingerprint,
            "metrics": output.metrics,
            "data": output.data,
            "artifacts": output.artifacts,
            "handoff": output.handoff,
            "seconds": seconds,
        }
        try:
            save_torch(state, self.folder / f"{key}.pt")
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # not tensors and containers
            self.log(
                f"probe {key}: its output cannot be checkpointed ({type(exc).__name__}); a rerun repeats it"
            )

    def scratch(self) -> Path:
        """A folder for the probes' own progress within this job (under this fingerprint, so a changed
        job never reads another's), removed with the checkpoints."""
        path = self.folder / f"partial-{self.fingerprint}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def clear(self) -> None:
        """After the record is written: nothing to resume."""
        shutil.rmtree(self.folder, ignore_errors=True)
