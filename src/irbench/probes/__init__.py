"""Evaluation probes: every per-model measurement is one probe, one module in this package.

A probe is registered under its configuration key in `<study>.evaluate` and declares its own schema
fragment, the task it serves (classification, regression or both), the data it needs (skipped, with a log
line, where the test split lacks it), the probes whose outputs it reads (`after`), extra input files, the
metrics it writes (unit, direction, one-line description: the tables and the report use them) and the
figures drawn from its data. The evaluate job runs the probes a study names, in dependency order, and
writes one record. Each probe starts from the job's seed (global RNGs and its own generator reset), so
adding or removing one probe never changes another's numbers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from irbench.data.tensors import Split
from irbench.errors import IrbenchError
from irbench.registry import Registry
from irbench.seeding import seed_everything

H = TypeVar("H")  # a probe's handoff dataclass

UNITS = ("percent", "raw", "seconds")
# The gate checks a claim on an attacked accuracy (ATTACKED) or a clean accuracy (ACCURACY) needs.
ACCURACY_GATES = ("above_chance",)
ATTACKED_GATES = ("monotone", "order", "gradients", "large_eps", "above_chance")
REGRESSION_ATTACKED_GATES = ("bite",)
TASKS = ("classification", "regression")
# The tables' sections, in order: a metric's `group` (else its probe's) says where its column goes.
GROUPS = {
    "accuracy": "Clean and under attack",
    "sweep": "Against the attack's strength",
    "attribution": "Attributions",
    "sanity": "Sanity checks of the attributions (rank correlation; high: the maps barely change)",
    "visual": "Generation, inversion and visualisation",
    "bottleneck": "Bottleneck units",
    "refinement": "Refinement: flagged regions against the planted cue",
    "cost": "Cost",
    "checks": "Gates and checks",
}
# How a norm reads in a column header; an attribution method reads as its table says (`ig` -> IG).
NORM_WORDS = {"l2": "L2", "linf": "L-inf"}


def part_word(part: str) -> str:
    """How a `{name}` part of a metric reads in a column header; other parts read as written."""
    from irbench.explain.methods import label

    return NORM_WORDS.get(part) or label(part)


@dataclass(frozen=True)
class Metric:
    """One metric (or a family: `{name}` parts match any text, e.g. `acc_{attack}`).

    `percent` metrics are stored as fractions and shown x100; `higher_is_better` None means no direction.
    `gates`: the checks of the gates probe (`gate_<check>`) that must pass for a claim on this metric to get
    a verdict (irbench.claims.GATE_VERDICTS). `label`: the column header (without unit), `{name}` parts
    filled from the metric's name; `group`: its table section (GROUPS), else its probe's; `row_by`: a part
    whose values are rows of the section rather than columns (one row per attribution method, say).
    """

    pattern: str
    unit: str
    higher_is_better: bool | None
    description: str
    gates: tuple[str, ...] = ()
    label: str = ""
    group: str | None = None
    row_by: str | None = None  # a `{part}` whose values become the table's rows (e.g. `method`: IG, SHAP)

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.pattern!r}: unit must be one of {UNITS}, got {self.unit!r}")
        if self.group is not None and self.group not in GROUPS:
            raise ValueError(f"metric {self.pattern!r}: group must be one of {tuple(GROUPS)}")

    @property
    def regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[a-z_]+\})", self.pattern)
        return re.compile(
            "^" + "".join(f"(?P<{p[1:-1]}>.+)" if p.startswith("{") else re.escape(p) for p in parts) + "$"
        )

    def pivot(self, name: str) -> tuple[str, str]:
        """For a metric shown in rows by `row_by`: (its row, e.g. 'IG'; its header without that part)."""
        parts = self.regex.match(name).groupdict()
        words = {k: part_word(v) for k, v in parts.items()}
        row, words[self.row_by] = words[self.row_by], ""
        return row, " ".join(self.label.format(**words).split())

    def header(self, name: str) -> str:
        """The column header of metric `name` (a member of this family), without its unit."""
        if not self.label:
            return name
        parts = self.regex.match(name).groupdict()
        return self.label.format(**{k: part_word(v) for k, v in parts.items()})

    @property
    def specificity(self) -> int:
        """Characters fixed by the pattern: the most specific of several matching patterns wins."""
        return len(re.sub(r"\{[a-z_]+\}", "", self.pattern))


@dataclass(frozen=True)
class Figure:
    """A figure drawn from a probe's data: `per_seed` ones from the first seed's artifacts of every variant
    (`draw(payloads, output, title, spec)`), the others from every variant's and seed's records."""

    kind: str  # the file name part: results/figures/<study>_<dataset>_<kind>[_seed<N>].png
    per_seed: bool
    draw: Callable[[Sequence[Mapping[str, Any]], str, str, Mapping[str, Any]], None]
    title: str
    caption: str


@dataclass
class ProbeContext:
    """What a probe sees: the model, the test data, the job's identity and earlier probes' outputs."""

    model: nn.Module
    test: Split  # the whole test split, on the CPU
    scored: Split  # its first `n_eval` items, on the device
    device: torch.device
    seed: int
    variant: str
    batch_size: int
    task: str
    spec_root: Mapping[str, Any] = field(default_factory=dict)  # the whole evaluate section
    splits: Mapping[str, Split] = field(default_factory=dict)  # other test splits, first `n_eval`, on device
    generator: torch.Generator | None = None  # reset to the seed before each probe
    inputs: Mapping[str, str] = field(default_factory=dict)  # extra input files by name
    data_path: str = ""  # the prepared dataset file, for probes that read another split (the training one)
    # a folder where a probe keeps its own progress within the job (AutoAttack's per-image state): kept
    # across a kill when the job is resumable, removed once the record is written; None: nowhere to keep it
    scratch: Path | None = None
    outputs: dict[str, ProbeOutput] = field(default_factory=dict)  # earlier probes' outputs by key
    log: Callable[[str], None] = print
    seconds: dict[str, float] = field(default_factory=dict)  # each probe's wall time, in the order run

    def handoff(self, key: str, kind: type[H]) -> H:
        """What the earlier probe `key` handed on, as the dataclass `kind` it declares (a probe names the
        probe it reads in its `after`, so that one has run)."""
        out = self.outputs.get(key)
        if out is None or not isinstance(out.handoff, kind):
            raise IrbenchError(
                f"probe {key!r} gave no {kind.__name__} (it must run before the probe reading it)"
            )
        return out.handoff


@dataclass
class ProbeOutput:
    """Flat metrics (into the record's `metrics`), structured data (the record's entry under the probe's
    key, e.g. a sweep's rows), artifacts for the figures (tensors, saved beside the record) and the
    `handoff`: a dataclass the probe declares for the probes that read it (`after`; AttributionMaps,
    AttackRuns), kept only in a resumable job's probe checkpoints."""

    metrics: dict[str, float] = field(default_factory=dict)
    data: Any = None
    artifacts: dict[str, Any] | None = None
    handoff: Any = None


@dataclass(frozen=True)
class Probe:
    """A registered measurement; see the module docstring."""

    key: str
    run: Callable[[ProbeContext, Mapping[str, Any]], ProbeOutput]
    description: str
    metrics: tuple[Metric, ...]
    schema: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "additionalProperties": False}
    )
    task: str | None = None  # None: both tasks
    needs: tuple[str, ...] = ()  # test-split extras (e.g. cue_labels, object_mask) it cannot run without
    after: tuple[str, ...] = ()
    follows: tuple[str, ...] = ()  # probes it reads when they are configured (run first), else does without
    inputs: Mapping[str, str] = field(default_factory=dict)  # name -> path template ({study}, {dataset})
    figures: tuple[Figure, ...] = ()
    preflight: Callable[[Mapping[str, Any]], None] | None = (
        None  # checks before any job (files named in spec)
    )
    group: str = "accuracy"  # the table section of its metrics (GROUPS), unless a metric says otherwise
    # column headers that depend on the probe's settings (e.g. an attack's eps): spec -> {metric: header}
    headers: Callable[[Mapping[str, Any]], Mapping[str, str]] | None = None
    # the model capabilities it calls (irbench.models.interface.CAPABILITIES), and for each one it can do
    # without, how it does (said in the record and the report); a model lacking one not in `without` is
    # refused before any job
    requires: tuple[str, ...] = ()
    without: Mapping[str, str] = field(default_factory=dict)

    def applies_to(self, split: Split) -> list[str]:
        """What of `needs` the split lacks (empty: the probe can run)."""
        return [n for n in self.needs if n not in split.extras]


PROBES: Registry[Probe] = Registry("probe", "irbench.probes")


def register(probe: Probe) -> Probe:
    """Register a probe under its configuration key (called at the end of its module)."""
    return PROBES.register(probe.key, probe)


def masks(split: Split) -> dict[str, torch.Tensor]:
    """The split's ground-truth region masks by name (`object_mask` -> 'object')."""
    return {k.removesuffix("_mask"): v for k, v in split.extras.items() if k.endswith("_mask")}


def configured(spec: Mapping[str, Any]) -> list[str]:
    """The probe keys of an evaluate section, in dependency order (else configuration order)."""
    keys = [k for k in spec if k in PROBES]
    order: list[str] = []

    def visit(key: str, stack: tuple[str, ...]) -> None:
        if key in order:
            return
        if key in stack:
            raise IrbenchError(f"probes depend on each other in a cycle: {' -> '.join((*stack, key))}")
        probe = PROBES.get(key)
        for dep in probe.after:
            if dep not in keys:
                raise IrbenchError(f"probe {key!r} reads probe {dep!r}: add 'evaluate.{dep}' to the study")
            visit(dep, (*stack, key))
        for dep in probe.follows:
            if dep in keys:
                visit(dep, (*stack, key))
        order.append(key)

    for k in keys:
        visit(k, ())
    return order


def run_probes(
    ctx: ProbeContext,
    spec: Mapping[str, Any],
    kept: Mapping[str, tuple[ProbeOutput, float]] | None = None,
    on_done: Callable[[str, ProbeOutput, float], None] | None = None,
) -> tuple[dict[str, float], dict[str, Any], dict]:
    """Run the probes `spec` names on `ctx`; returns (metrics, data by probe key, artifacts by probe key).
    Each probe's wall time goes to `ctx.seconds` and the log (where an evaluation's time goes). `kept`:
    probes an interrupted run finished (output, seconds), taken instead of run again; each probe starts
    from the job's seed, so the rest give what an uninterrupted run gives. `on_done` sees each probe run."""
    kept = kept or {}
    metrics: dict[str, float] = {}
    data: dict[str, Any] = {}
    artifacts: dict[str, Any] = {}
    for key in configured(spec):
        probe = PROBES.get(key)
        if probe.task not in (None, ctx.task):
            raise IrbenchError(f"evaluate.{key}: the {key} probe measures {probe.task}, not {ctx.task}")
        missing = probe.applies_to(ctx.test) + [
            f"output of '{d}'" for d in probe.after if d not in ctx.outputs
        ]
        if missing:
            ctx.log(f"probe {key}: skipped (the test split has no {', '.join(missing)})")
            continue
        if key in kept:
            out, ctx.seconds[key] = kept[key]
            ctx.log(f"probe {key}: kept from the interrupted run ({ctx.seconds[key]:.1f} s then)")
        else:
            ctx.generator = seed_everything(ctx.seed)
            t0 = time.perf_counter()
            # evaluation is float32 whatever the caller's autocast (training may use bf16): attacks and
            # attributions need full-precision gradients; the numbers must not depend on the device's habits
            with torch.autocast(ctx.device.type, enabled=False):
                out = probe.run(ctx, spec[key])
            ctx.seconds[key] = round(time.perf_counter() - t0, 2)
            ctx.log(f"probe {key}: {ctx.seconds[key]:.1f} s")
            if on_done is not None:
                on_done(key, out, ctx.seconds[key])
        ctx.outputs[key] = out
        metrics.update(out.metrics)
        if out.data is not None:
            data[key] = out.data
        if out.artifacts is not None:
            artifacts[key] = out.artifacts
    return metrics, data, artifacts


def metric_owner(name: str, extra: Sequence[Metric] = ()) -> tuple[Probe | None, int, Metric]:
    """Who declares a metric column: (its probe, or None for `extra`; the declaration's index; the Metric),
    the most specific pattern matching it."""
    candidates = [(p, i, m) for _, p in PROBES.items() for i, m in enumerate(p.metrics)]
    candidates += [(None, i, m) for i, m in enumerate(extra)]
    hits = [c for c in candidates if c[2].regex.match(name)]
    if not hits:
        raise IrbenchError(f"metric {name!r} is declared by no probe (declare it in the probe's `metrics`)")
    return max(hits, key=lambda c: c[2].specificity)


def metric_info(name: str, extra: Sequence[Metric] = ()) -> Metric:
    """The declaration of a metric column: the most specific pattern of any probe (or `extra`) matching it."""
    return metric_owner(name, extra)[2]


def figures_of(spec: Mapping[str, Any]) -> dict[str, tuple[str, Figure]]:
    """The figures an evaluate section's probes draw: {kind: (probe key, figure)}."""
    out: dict[str, tuple[str, Figure]] = {}
    for key in configured(spec):
        for fig in PROBES.get(key).figures:
            if fig.kind in out:
                raise IrbenchError(
                    f"evaluate.{key} and evaluate.{out[fig.kind][0]} both draw the '{fig.kind}' figure: "
                    "keep one"
                )
            out[fig.kind] = (key, fig)
    return out


def input_files(spec: Mapping[str, Any], study: str, dataset: str) -> dict[str, str]:
    """The extra input files the configured probes read, by name."""
    return {
        name: template.format(study=study, dataset=dataset)
        for key in configured(spec)
        for name, template in PROBES.get(key).inputs.items()
    }
