"""Registries fill themselves from their packages, refuse a name twice, and generate the schema's
enumerations."""

from __future__ import annotations

import pytest

from irbench.attacks import ATTACKS
from irbench.config import schema
from irbench.datasets import DATASETS
from irbench.errors import IrbenchError
from irbench.models import MODELS
from irbench.objectives import OBJECTIVES
from irbench.probes import PROBES
from irbench.registry import Registry


def test_schema_enumerations_are_the_registries():
    s = schema()["$defs"]
    assert s["attack"]["properties"]["method"]["enum"] == ATTACKS.names()
    # the ones the studies use are there; a new attack (one file) keeps this test green
    assert {"bim", "fgsm", "mer_reference", "pgd", "uniform_noise"} <= set(ATTACKS.names())
    assert s["model"]["properties"]["arch"]["enum"] == MODELS.names()
    assert s["variant"]["properties"]["objective"]["enum"] == OBJECTIVES.names()
    assert s["dataset"]["properties"]["kind"]["enum"] == DATASETS.names()
    evaluate = s["study"]["properties"]["evaluate"]["properties"]
    assert set(evaluate) == {"n_eval", "batch_size", *PROBES.names()}


def test_unknown_names_and_double_registration_are_one_line_errors():
    with pytest.raises(IrbenchError, match=r"unknown model 'vit' \(expected one of: .*\bresnet18\b") as err:
        MODELS.get("vit")
    assert str(err.value).count("\n") == 0 and all(name in str(err.value) for name in MODELS.names())
    reg = Registry("thing", "irbench.probes")
    reg.register("a", 1)
    with pytest.raises(IrbenchError, match="thing 'a' is registered twice"):
        reg.register("a", 2)


def test_dataset_kinds_declare_their_task_and_folders():
    assert DATASETS.get("synthetic_mer").task == "regression"
    assert DATASETS.get("cifar10").task == "classification"
    assert set(DATASETS.get("soundtracks").folders) == {"root", "audio_dir", "midlevel_root"}
