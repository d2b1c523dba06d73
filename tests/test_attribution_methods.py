"""The attribution methods' table (irbench.explain.methods): every method explains where a model looks, a
method's maps do not depend on which methods ran before it, the configuration names an unknown method or
a missing setting in one line, and column headers and figures read a method's label from the table."""

import copy

import pytest
import torch
from torch import nn

from irbench.config import load_yaml, resolve
from irbench.errors import IrbenchError
from irbench.explain.localisation import mask_mass
from irbench.explain.methods import METHODS, AttributionRequest, attribution_maps, explain_with, label
from irbench.probes import part_word

from .conftest import ROOT

SPEC = {
    "ig_steps": 8,
    "internal_batch_size": 64,
    "ig_baselines": 2,
    "shap_samples": 8,
    "lime_samples": 200,
    "lime_batch_size": 200,
    "segmentation": {"algo": "slic", "n_segments": 16, "compactness": 100.0, "sigma": 0.0},  # a 4x4 grid
}


def _corner_model() -> nn.Module:
    """Class 1's logit is the mean squared brightness of the top-left 8x8 block of a 16x16 image (a
    superpixel filled with its mean colour, as LIME hides it, lowers it), class 0's a constant."""

    class Corner(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.tensor(8.0))

        def forward(self, x):
            corner = self.scale * x[:, :, :8, :8].pow(2).mean((1, 2, 3))
            return torch.stack([torch.full_like(corner, 4.0), corner], 1)

    return Corner()


def _request(seed: int = 0) -> AttributionRequest:
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 3, 16, 16, generator=g)
    return AttributionRequest(_corner_model(), x, torch.ones(4, dtype=torch.long), x.flip(0), SPEC, seed)


@pytest.mark.parametrize("key", ["ig", "shap", "saliency", "lime"])
def test_each_method_puts_its_mass_where_the_model_looks(key):
    r = _request()
    maps = explain_with(key, r)
    assert maps.shape[0] == 4 and maps.shape[2:] == (16, 16) and maps.shape[1] in (1, 3)
    mask = torch.zeros(4, 16, 16, dtype=torch.bool)
    mask[:, :8, :8] = True  # a quarter of the image
    assert mask_mass(maps, mask).min() > 0.6, key


def test_a_methods_maps_do_not_depend_on_the_methods_before_it():
    r = _request(seed=3)
    alone = attribution_maps(r.model, r.x, r.target, r.baselines, {**SPEC, "methods": ["shap"]}, 3)
    after = attribution_maps(
        r.model, r.x, r.target, r.baselines, {**SPEC, "methods": ["saliency", "ig", "shap"]}, 3
    )
    assert list(after) == ["saliency", "ig", "shap"]
    assert torch.equal(alone["shap"], after["shap"])


def _with_attributions(**settings) -> dict:
    cfg = copy.deepcopy(load_yaml(ROOT / "params.yaml"))
    cfg["vision"]["evaluate"]["attributions"].update(settings)
    return cfg


def test_an_unknown_method_and_a_missing_setting_are_named_in_one_line():
    with pytest.raises(IrbenchError) as err:
        resolve(_with_attributions(methods=["ig", "gradcam"]))
    msg = str(err.value)
    assert "attributions.methods" in msg and "saliency" in msg and "\n" not in msg
    with pytest.raises(IrbenchError) as err:
        resolve(_with_attributions(methods=["ig", "lime"]))
    assert "lime_samples" in str(err.value) and "\n" not in str(err.value)
    resolve(_with_attributions(methods=["ig", "lime"], lime_samples=100, lime_batch_size=100))


def test_headers_and_figures_read_the_label_from_the_table():
    assert part_word("ig") == "IG" and part_word("shap") == "SHAP" and part_word("l2") == "L2"
    assert part_word("saliency") == label("saliency") == "Saliency"
    assert part_word("object") == "object"
    assert METHODS.get("lime").signed and not METHODS.get("ig").signed
