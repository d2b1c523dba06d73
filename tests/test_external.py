"""Imported checkpoints (irbench.external, the robustbench and torchvision architectures), the declared model
interface (irbench.models.interface) and the zoo's fetch bookkeeping (irbench.zoo)."""

from __future__ import annotations

import pytest
import torch
import yaml
from torch import nn

from irbench.errors import IrbenchError
from irbench.external import check_model, read_weights
from irbench.io import file_digest
from irbench.models import build_model, capabilities_of
from irbench.models.interface import LastLinear, check_head, fallbacks, served
from irbench.probes import PROBES, Probe, ProbeOutput
from irbench.zoo import record_hash, variant_yaml, zoo_path

ZOO = {"arch": "robustbench", "name": "Ding2020MMA", "threat_model": "Linf", "zoo_dataset": "cifar10"}


def _zoo_file(tmp_path, spec=ZOO):
    model = build_model(spec, n_classes=10)
    path = zoo_path(tmp_path, spec["zoo_dataset"], spec["threat_model"], spec["name"])
    path.parent.mkdir(parents=True)
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    return model, path


def test_a_zoo_file_is_read_by_robustbenchs_loader_into_the_same_weights(tmp_path):
    model, path = _zoo_file(tmp_path)
    loaded = read_weights(ZOO, path, 10, 3)
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), model.eval()(x))
    moved = tmp_path / "elsewhere.pt"
    path.rename(moved)
    with pytest.raises(IrbenchError, match="expected the zoo's layout"):
        read_weights(ZOO, moved, 10, 3)


def test_a_model_without_a_representation_is_served_by_its_last_linear_layer(tmp_path):
    model, path = _zoo_file(tmp_path)
    assert "representation" not in capabilities_of(ZOO)
    net = served(read_weights(ZOO, path, 10, 3), ZOO, 10)
    x = torch.rand(4, 3, 32, 32)
    assert isinstance(net, LastLinear) and net.features(x).shape == (4, 256) and check_head(net, x) < 1e-5
    assert set(net.state_dict()) == {f"net.{k}" for k in model.state_dict()}  # the head is not stored twice
    with pytest.raises(IrbenchError, match="no last linear layer with 7 outputs"):
        LastLinear(model, 7)


def test_torchvision_weights_keep_the_vision_interface_and_normalise_inside(tmp_path):
    import torchvision

    spec = {"arch": "torchvision", "name": "resnet18"}
    net = torchvision.models.resnet18(num_classes=10).eval()
    torch.save(net.state_dict(), tmp_path / "r18.pth")
    model = read_weights(spec, tmp_path / "r18.pth", 10, 3)
    x = torch.rand(2, 3, 32, 32)
    mean, std = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), torch.tensor([0.229, 0.224, 0.225])
    with torch.no_grad():
        assert torch.allclose(model(x), net((x - mean) / std.view(1, 3, 1, 1)), atol=1e-5)
    assert {"representation", "fake_relu"} <= capabilities_of(spec) and model.features(
        x, fake_relu=True
    ).shape == (2, 512)
    with pytest.raises(IrbenchError, match="not a torchvision resnet18 with 4 classes"):
        read_weights(spec, tmp_path / "r18.pth", 4, 3)


def test_the_import_checks_refuse_a_wrong_class_count_and_a_model_expecting_normalised_inputs():
    x, y = torch.rand(64, 3, 8, 8), torch.randint(0, 3, (64,))
    with pytest.raises(IrbenchError, match="outputs of shape \\(5,\\), the dataset has 3 classes"):
        check_model(nn.Sequential(nn.Flatten(), nn.Linear(192, 5)), x, y, 3, "w")

    class ReadsNormalised(nn.Module):  # right exactly when its inputs are ImageNet-normalised
        def forward(self, z):
            return torch.nn.functional.one_hot(y, 3).float() * (z.min() < 0).float()

    with pytest.raises(IrbenchError, match="expects normalised inputs"):
        check_model(ReadsNormalised(), x, y, 3, "w")

    class ScaledAfterHead(nn.Module):  # an operation after its last linear layer: no representation there
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Flatten(), nn.Linear(192, 3))

        def forward(self, z):
            return 2 * self.head(z)

    with pytest.raises(IrbenchError, match="its last linear layer is not its last operation"):
        check_model(ScaledAfterHead(), x, y, 3, "w")


def test_a_probe_that_cannot_serve_a_model_is_refused_naming_both():
    probe = Probe("needs_units", lambda ctx, spec: ProbeOutput(), "test", (), requires=("bottleneck",))
    PROBES.register("needs_units", probe)
    try:
        with pytest.raises(
            IrbenchError, match="probe 'needs_units' cannot serve model 'resnet10': it needs bottleneck"
        ):
            fallbacks({"arch": "resnet10"}, {"needs_units": {}})
        said = fallbacks(ZOO, {"attributions": {}, "visualise": {}})
        assert [(f.probe, f.capability) for f in said] == [
            ("visualise", "representation"),
            ("visualise", "fake_relu"),
        ]
    finally:
        PROBES._entries.pop("needs_units")


def test_before_any_job_a_variant_whose_model_a_probe_or_its_objective_cannot_serve_is_refused():
    from irbench.config import _check_variants, load_yaml, resolve

    from .conftest import ROOT

    cfg = resolve(load_yaml(ROOT / "params.yaml"))
    cfg["mer"]["variants"]["A2E"]["model"] = {"arch": "resnet10"}
    with pytest.raises(
        IrbenchError, match="'mer.variants.A2E': objective 'mer' cannot train model 'resnet10'"
    ):
        _check_variants(cfg, "mer", "synthetic_mer", "params.yaml")
    PROBES.register(
        "needs_units",
        Probe("needs_units", lambda ctx, spec: ProbeOutput(), "t", (), requires=("bottleneck",)),
    )
    try:
        cfg = resolve(load_yaml(ROOT / "params.yaml"))
        cfg["vision"]["evaluate"]["needs_units"] = {}
        with pytest.raises(
            IrbenchError, match="'vision.variants.standard': probe 'needs_units' cannot serve model"
        ):
            _check_variants(cfg, "vision", "synthetic_shapes", "params.yaml")
    finally:
        PROBES._entries.pop("needs_units")


def test_a_variant_is_trained_or_imported_and_its_file_must_be_there(tmp_path):
    from irbench.config import check_inputs, load_yaml, resolve

    from .conftest import ROOT

    cfg = load_yaml(ROOT / "params.yaml")
    cfg["vision"]["variants"]["both"] = {"objective": "standard", "checkpoint": {"path": "x.pt"}}
    with pytest.raises(IrbenchError, match="'vision.variants.both' needs one of `objective`"):
        resolve(cfg)
    cfg["vision"]["variants"]["both"] = {"model": ZOO, "checkpoint": {"path": str(tmp_path / "no.pt")}}
    with pytest.raises(IrbenchError, match="checkpoint.path: .*no.pt not found"):
        check_inputs(resolve(cfg))


def test_fetch_bookkeeping_records_the_hash_and_prints_a_variant_that_validates(tmp_path):
    _, path = _zoo_file(tmp_path)
    digest = record_hash(tmp_path, path)
    record_hash(tmp_path, path)  # again: one line per file
    assert (tmp_path / "SHA256SUMS").read_text() == f"{digest}  cifar10/Linf/Ding2020MMA.pt\n"
    assert digest == file_digest(path)
    variant = yaml.safe_load(variant_yaml("Ding2020MMA", "cifar10", "Linf", path, digest))["Ding2020MMA"]
    assert variant["model"] == ZOO and variant["checkpoint"]["sha256"] == digest
