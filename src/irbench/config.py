"""params.yaml: loading, schema validation with one-line errors, scale overlays and per-job specs.

params.yaml holds the paper-scale recipe in each study section; `scales.<name>` holds overlays that are
deep-merged on top when `scale: <name>` is chosen (the quick default shrinks data, width and epochs).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from irbench.errors import IrbenchError

SCHEMA_PATH = Path(__file__).with_name("params.schema.yaml")
VARIANT_KEYS = ("objective", "model", "train", "attack")  # every variant may carry these


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file with a one-line error naming it."""
    path = Path(path)
    try:
        return yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise IrbenchError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise IrbenchError(f"{path}: not valid YAML{where} ({what})") from exc


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Return `base` with `overlay` merged in: nested mappings merge, `null` removes the key (so a scale or
    per-dataset overlay can drop an attack or a probe), everything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _error_line(err: jsonschema.ValidationError, source: str) -> str:
    """One line naming the offending key path and what the schema expected."""
    path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        where = f"{path}." if path else ""
        return f"{source}: unknown key '{where}{extra[0]}' (allowed here: {allowed})"
    if err.validator == "required":
        return f"{source}: key '{path or '<top>'}' is missing {err.message.split(' is a ')[0]}"
    if err.validator == "not":
        return f"{source}: key '{path}' is invalid: {err.validator_value.get('description', err.message)}"
    expected = err.schema.get("description") or err.message
    return f"{source}: key '{path}' = {err.instance!r} is invalid: {expected}"


@functools.cache
def schema() -> dict[str, Any]:
    """params.schema.yaml completed from the registries: dataset kinds, models, attacks, objectives and
    evaluation probes each contribute their names (the enumerations) and their own keys."""
    from irbench.attacks import ATTACKS
    from irbench.datasets import DATASETS
    from irbench.models import MODELS
    from irbench.objectives import OBJECTIVES
    from irbench.probes import PROBES

    out = load_yaml(SCHEMA_PATH)
    defs = out["$defs"]
    kinds = DATASETS.names()
    defs["dataset"] = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": _enum(kinds, "a dataset kind")},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": name}}},
                "then": {
                    "additionalProperties": False,
                    "required": ["kind", *kind.schema.get("required", [])],
                    "properties": {"kind": {"const": name}, **kind.schema.get("properties", {})},
                },
            }
            for name, kind in DATASETS.items()
        ],
    }
    defs["attack"]["properties"]["method"] = _enum(ATTACKS.names(), "an attack method")
    for _, attack in ATTACKS.items():  # the keys an attack reads beyond the common ones
        defs["attack"]["properties"].update(attack.schema)
    model = defs["model"]["properties"]
    model["arch"] = _enum(MODELS.names(), "a model name")
    for _, m in MODELS.items():
        model.update(m.schema)
    variant = defs["variant"]
    variant["properties"]["objective"] = _enum(OBJECTIVES.names(), "an objective")
    for name, obj in OBJECTIVES.items():
        variant["properties"].update(obj.schema.get("properties", {}))
        if obj.schema.get("required"):
            variant.setdefault("allOf", []).append(
                {
                    "if": {"properties": {"objective": {"const": name}}, "required": ["objective"]},
                    "then": {"required": ["objective", *obj.schema["required"]]},
                }
            )
    evaluate = defs["study"]["properties"]["evaluate"]
    evaluate["properties"].update({key: probe.schema for key, probe in PROBES.items()})
    return out


def _enum(names: list[str], what: str) -> dict[str, Any]:
    return {"enum": names, "description": f"expected {what}: {', '.join(names)}"}


def validate(config: Mapping[str, Any], source: str = "params.yaml") -> None:
    """Validate against the generated schema (`schema()`); raise IrbenchError with a one-line message.

    Top-level keys other than the fixed ones are study sections, so a misspelt fixed key that is not a
    mapping (`sedes: [0, 1]`) is named as unknown rather than read as a malformed study."""
    fixed = schema()["properties"]
    for key, value in config.items():
        if key not in fixed and not isinstance(value, Mapping):
            raise IrbenchError(
                f"{source}: unknown key '{key}' (allowed here: {', '.join(sorted(fixed))} or a study section)"
            )
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise IrbenchError(_error_line(best, source))


def resolve(
    config: Mapping[str, Any], source: str = "params.yaml", user: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate the raw config, apply the chosen scale overlay, then the user's own layers (`user`: the
    `--configfile`s and `--config` values, then overlay.yaml) on top, so a key the user sets beats the
    scale; validate the result again."""
    user = dict(user or {})
    raw = deep_merge(config, user)
    validate(raw, source)
    scale = raw["scale"]
    if scale not in raw["scales"]:
        raise IrbenchError(
            f"{source}: key 'scale' = {scale!r} names no entry of 'scales' "
            f"(expected one of: {', '.join(raw['scales'])})"
        )
    scaled = deep_merge({k: v for k, v in config.items() if k != "scales"}, raw["scales"][scale])
    merged = deep_merge(scaled, {k: v for k, v in user.items() if k != "scales"})
    merged["scales"] = copy.deepcopy(dict(raw["scales"]))
    validate(merged, f"{source} (after applying scales.{scale})")
    for study in merged["studies"]:
        if study not in merged:
            raise IrbenchError(f"{source}: key 'studies' names '{study}', which has no '{study}' section")
        for name, variant in merged[study]["variants"].items():
            base = variant.get("refine", {}).get("from")
            if base is not None and (base not in merged[study]["variants"] or base == name):
                raise IrbenchError(
                    f"{source}: key '{study}.variants.{name}.refine.from' = {base!r} is not another variant "
                    f"(expected one of: {', '.join(v for v in merged[study]['variants'] if v != name)})"
                )
        for dataset in merged[study]["datasets"]:
            if dataset not in merged["datasets"]:
                raise IrbenchError(
                    f"{source}: key '{study}.datasets' names '{dataset}', which is not a key of "
                    f"'datasets' (expected one of: {', '.join(merged['datasets'])})"
                )
        for dataset in merged[study].get("per_dataset", {}):
            section = {**merged, study: study_section(merged, study, dataset)}
            validate(section, f"{source} (with {study}.per_dataset.{dataset} applied)")
        for dataset in merged[study]["datasets"]:
            _check_probes(merged, study, dataset, source)
            _check_image_eps(merged, study, dataset, source)
            _check_variants(merged, study, dataset, source)
    return merged


def _check_variants(cfg: Mapping[str, Any], study: str, dataset: str, source: str) -> None:
    """Each variant is trained (`objective`) or imported (`checkpoint`, classifiers only), and every probe
    the study runs serves its model, by the model's capabilities or the probe's fallback
    (irbench.models.interface): refused here, in one line, rather than hours into a job."""
    from irbench.datasets import DATASETS
    from irbench.models.interface import check_objective, fallbacks

    task = DATASETS.get(cfg["datasets"][dataset]["kind"]).task
    for name, var in study_section(cfg, study, dataset)["variants"].items():
        where = f"{source}: key '{study}.variants.{name}'"
        if ("objective" in var) == ("checkpoint" in var):
            raise IrbenchError(f"{where} needs one of `objective` (train it) or `checkpoint` (import it)")
        if "checkpoint" in var and task != "classification":
            raise IrbenchError(
                f"{where}.checkpoint: imported checkpoints are classifiers ({dataset} is {task})"
            )
        try:
            spec = train_spec(cfg, study, name, dataset)
            check_objective(spec["model"], spec["objective"])
            fallbacks(spec["model"], eval_spec(cfg, study, dataset))
        except IrbenchError as err:
            raise IrbenchError(f"{where}: {err}") from None


def _check_image_eps(cfg: Mapping[str, Any], study: str, dataset: str, source: str) -> None:
    """On images in [0, 1] (classification datasets) an L-inf eps above 1 is a mistake (eps 8 for 8/255,
    say): refuse it, naming the key."""
    from irbench.datasets import DATASETS

    if DATASETS.get(cfg["datasets"][dataset]["kind"]).task != "classification":
        return  # regressors attack standardised spectrograms, unbounded

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            if node.get("norm") == "linf" and isinstance(node.get("eps"), int | float) and node["eps"] > 1:
                raise IrbenchError(
                    f"{source}: key '{path}.eps' = {node['eps']} is an L-inf eps above 1 on images in [0, 1] "
                    "(expected a fraction of the range, e.g. 0.0313725 for 8/255)"
                )
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    section = study_section(cfg, study, dataset)
    walk({k: v for k, v in section.items() if k != "evaluate"}, study)
    evaluate = section["evaluate"]
    walk(evaluate, f"{study}.evaluate")
    for i, eps in enumerate(evaluate.get("sweep", {}).get("eps", [])):  # the classifier sweep is L-inf
        if eps > 1:
            raise IrbenchError(
                f"{source}: key '{study}.evaluate.sweep.eps[{i}]' = {eps} is an L-inf eps above 1 on images "
                "in [0, 1] (expected a fraction of the range, e.g. 0.0313725 for 8/255)"
            )


def _check_probes(cfg: Mapping[str, Any], study: str, dataset: str, source: str) -> None:
    """The probes of a study's evaluation suit its datasets' task, find the probes they read, draw no
    figure twice."""
    from irbench.datasets import DATASETS
    from irbench.probes import PROBES, configured, figures_of

    spec = eval_spec(cfg, study, dataset)
    task = DATASETS.get(cfg["datasets"][dataset]["kind"]).task
    try:
        keys = configured(spec)
        figures_of(spec)
    except IrbenchError as exc:
        raise IrbenchError(f"{source}: key '{study}.evaluate': {exc}") from exc
    for key in keys:
        probe_task = PROBES.get(key).task
        if probe_task not in (None, task):
            raise IrbenchError(
                f"{source}: key '{study}.evaluate.{key}': the {key} probe measures {probe_task} models, "
                f"but dataset '{dataset}' is a {task} dataset"
            )


def check_study_names(studies: list[str], rule_names: list[str], source: str = "params.yaml") -> None:
    """A study's Snakemake target is a rule named after it: no study may share a name with another rule."""
    clash = sorted(set(studies) & set(rule_names))
    if clash:
        raise IrbenchError(
            f"{source}: key 'studies' names '{clash[0]}', which is also a rule of the workflow "
            "(rename the study)"
        )


def check_inputs(cfg: Mapping[str, Any]) -> None:
    """Before any job: the folders of every used dataset exist, and every probe's own checks pass (e.g. the
    FID Inception's local weights file)."""
    from irbench.datasets import check_datasets
    from irbench.probes import PROBES, configured

    check_datasets(cfg["datasets"], sorted({d for s in cfg["studies"] for d in cfg[s]["datasets"]}))
    for study in cfg["studies"]:
        for dataset in cfg[study]["datasets"]:
            _check_checkpoints(cfg, study, dataset)
            spec = eval_spec(cfg, study, dataset)
            for key in configured(spec):
                preflight = PROBES.get(key).preflight
                if preflight is not None:
                    preflight(spec[key])


def _check_checkpoints(cfg: Mapping[str, Any], study: str, dataset: str) -> None:
    """Every imported variant's weights file is there (nothing is downloaded), and the package its
    architecture is defined in."""
    import importlib.util

    for name, var in study_section(cfg, study, dataset)["variants"].items():
        if "checkpoint" not in var:
            continue
        path = Path(var["checkpoint"]["path"])
        if not path.is_file():
            raise IrbenchError(
                f"{study}.variants.{name}.checkpoint.path: {path} not found (weights are never downloaded "
                "by a run: see docs/checkpoints.md)"
            )
        arch = train_spec(cfg, study, name, dataset)["model"]["arch"]
        if arch == "robustbench" and importlib.util.find_spec("robustbench") is None:
            raise IrbenchError(
                f"{study}.variants.{name}: model arch robustbench needs the robustbench package "
                "(pip install --no-deps -r requirements-nodeps.txt)"
            )


def load(path: str | Path) -> dict[str, Any]:
    """Load, validate and resolve a params file."""
    raw = load_yaml(path)
    if not isinstance(raw, Mapping):
        raise IrbenchError(f"{path}: expected a YAML mapping at the top level")
    return resolve(raw, str(path))


def user_layer(
    configfiles: Sequence[str | Path], values: Mapping[str, Any] | None, base: str | Path = "params.yaml"
) -> dict[str, Any]:
    """The user's own configuration layer: every `--configfile` but params.yaml itself (naming it, as
    `--configfile params.yaml my.yaml` does, is no override), merged in order, then `--config` values."""
    out: dict[str, Any] = {}
    base_path = Path(base).resolve()
    for f in configfiles:
        if Path(f).resolve() != base_path:
            out = deep_merge(out, load_yaml(f) or {})
    return deep_merge(out, dict(values or {}))


def layered(
    configfiles: Sequence[str | Path],
    values: Mapping[str, Any] | None,
    base: str | Path = "params.yaml",
    overlay: str | Path = "overlay.yaml",
) -> dict[str, Any]:
    """Every layer over params.yaml, in order: the `--configfile`s, the `--config` values, then overlay.yaml
    (empty as shipped; DVC tracks it). The workflow and `irbench.verify` resolve the same configuration."""
    extra = (load_yaml(overlay) or {}) if Path(overlay).exists() else {}
    return deep_merge(user_layer(configfiles, values, base), extra)


def _leaves(node: Any, prefix: str = "") -> set[str]:
    """Dotted paths of every leaf (a non-mapping value) of a nested mapping."""
    if not isinstance(node, Mapping) or not node:
        return {prefix} if prefix else set()
    return {leaf for k, v in node.items() for leaf in _leaves(v, f"{prefix}.{k}" if prefix else str(k))}


def scale_overrides(config: Mapping[str, Any], user: Mapping[str, Any] | None) -> list[str]:
    """The keys the chosen scale sets that the user's layers set too (theirs won): said in the report."""
    raw = deep_merge(config, dict(user or {}))
    scale_keys = _leaves(raw.get("scales", {}).get(raw.get("scale"), {}))
    user_keys = _leaves({k: v for k, v in (user or {}).items() if k != "scales"})
    return sorted(k for k in scale_keys if k in user_keys or any(k.startswith(u + ".") for u in user_keys))


def study_section(cfg: Mapping[str, Any], study: str, dataset: str | None = None) -> dict[str, Any]:
    """A study's settings for one dataset: `<study>.per_dataset.<dataset>` deep-merged on the section.

    This is how one run trains a CIFAR ResNet-18 and an ImageNet ResNet-50, each with its paper's recipe.
    """
    section = {k: v for k, v in cfg[study].items() if k != "per_dataset"}
    override = cfg[study].get("per_dataset", {}).get(dataset, {}) if dataset else {}
    return deep_merge(section, override)


def train_spec(
    cfg: Mapping[str, Any], study: str, variant: str, dataset: str | None = None
) -> dict[str, Any]:
    """Everything that determines one variant's training on one dataset (model, recipe, objective, attack)."""
    section = study_section(cfg, study, dataset)
    var = section["variants"][variant]
    return {
        "model": deep_merge(section["model"], var.get("model", {})),
        "train": deep_merge(section["train"], var.get("train", {})),
        "objective": var.get("objective"),  # None: a `checkpoint` variant, imported rather than trained
        "attack": copy.deepcopy(var.get("attack")),
        # the objective's own keys (e.g. MER's mid_weight, LIME refinement's rounds and flag rule)
        **{k: copy.deepcopy(v) for k, v in var.items() if k not in VARIANT_KEYS},
    }


def eval_spec(cfg: Mapping[str, Any], study: str, dataset: str | None = None) -> dict[str, Any]:
    """The study's evaluation battery settings for one dataset."""
    return study_section(cfg, study, dataset)["evaluate"]


def study_seeds(cfg: Mapping[str, Any], study: str) -> list[int]:
    """The seeds a study trains: its own `seeds` list (10 for MER at paper scale), else the global one."""
    return list(cfg[study].get("seeds", cfg["seeds"]))


def run_setting(cfg: Mapping[str, Any], overridden: Sequence[str] = ()) -> dict[str, Any]:
    """What the report states above its verdicts: the scale, the scale's keys the user's layers replaced
    (`overridden`, from scale_overrides) and, per study, the seeds and each dataset's kind and whether
    irbench generated it."""
    from irbench.datasets import DATASETS

    return {
        "scale": cfg.get("scale", "quick"),
        "scale_overridden": list(overridden),
        "studies": {
            study: {
                "seeds": study_seeds(cfg, study),
                "datasets": {
                    d: {
                        "kind": cfg["datasets"][d]["kind"],
                        "synthetic": DATASETS.get(cfg["datasets"][d]["kind"]).synthetic,
                    }
                    for d in cfg[study]["datasets"]
                },
            }
            for study in cfg["studies"]
        },
    }


def dataset_spec(cfg: Mapping[str, Any], dataset: str) -> dict[str, Any]:
    """The settings of one dataset entry."""
    return copy.deepcopy(dict(cfg["datasets"][dataset]))


def config_hash(obj: Any) -> str:
    """A short, stable hash of a JSON-serialisable object (used as the configuration-hash tag)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]
