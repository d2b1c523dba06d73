"""Batched localisation scores equal Quantus 0.6.0's on the same maps; reference maps score as they must."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from irbench.explain.localisation import (
    edge_map,
    mass_accuracy,
    mass_ratio,
    pointing_game,
    random_map,
    rank_accuracy,
)


def _maps(n=12, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    heat = torch.rand(n, size, size, generator=g)
    mask = torch.zeros(n, size, size, dtype=torch.bool)
    for i in range(n):  # rectangles of different sizes and places
        top, left = torch.randint(0, size - 2, (2,), generator=g).tolist()
        h, w = torch.randint(1, size - max(top, left), (2,), generator=g).tolist()
        mask[i, top : top + h, left : left + w] = True
    heat[0][mask[0]] += 1.0  # one map whose peak is surely inside
    return heat, mask


def test_scores_equal_quantus_on_the_same_maps():
    quantus = pytest.importorskip("quantus")  # installed by scripts/setup.sh (requirements-nodeps.txt)
    heat, mask = _maps()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2)).eval()
    data = {
        "model": model,
        "x_batch": heat[:, None].numpy(),
        "y_batch": np.zeros(len(heat), dtype=int),
        "a_batch": heat[:, None].numpy(),
        "s_batch": mask[:, None].numpy().astype(np.float32),
        "device": "cpu",
    }
    kw = {"abs": False, "normalise": False, "disable_warnings": True}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = {
            "mass": quantus.RelevanceMassAccuracy(**kw)(**data),
            "rank": quantus.RelevanceRankAccuracy(**kw)(**data),
            "pointing": quantus.PointingGame(**kw)(**data),
        }
    np.testing.assert_allclose(mass_accuracy(heat, mask).numpy(), np.array(theirs["mass"], float), rtol=1e-5)
    np.testing.assert_allclose(rank_accuracy(heat, mask).numpy(), np.array(theirs["rank"], float), rtol=1e-6)
    np.testing.assert_array_equal(pointing_game(heat, mask).numpy(), np.array(theirs["pointing"], float))


def test_reference_maps_score_chance_and_structure():
    heat, mask = _maps(n=400, size=16, seed=1)
    g = torch.Generator().manual_seed(0)
    chance = mass_ratio(random_map(tuple(mask.shape), g), mask)
    assert abs(chance.mean().item() - 1.0) < 0.06  # a map blind to the mask scores its area (4 SE)
    rank = rank_accuracy(random_map(tuple(mask.shape), g), mask)
    area = mask.flatten(1).float().mean(1)
    assert abs((rank - area).mean().item()) < 0.02
    # a mask-shaped map scores perfectly; an empty mask is NaN, as in Quantus
    perfect = mask.float() + 0.01
    assert torch.allclose(rank_accuracy(perfect, mask), torch.ones(len(mask)))
    assert pointing_game(perfect, mask).all() and (mass_ratio(perfect, mask) > 1).all()
    assert torch.isnan(mass_accuracy(heat[:1], torch.zeros_like(mask[:1])))
    # the edge map lights up the border of a bright square, not the flat inside or outside
    img = torch.zeros(1, 3, 16, 16)
    img[:, :, 4:12, 4:12] = 1.0
    edges = edge_map(img)[0]
    assert edges[4, 8] > 0 and edges[8, 8] == 0 and edges[0, 0] == 0


def test_probe_scores_each_method_and_mask_beside_random_and_edge_maps():
    from irbench.probes import PROBES

    from .conftest import probe_context

    torch.manual_seed(0)
    lin = nn.Linear(3 * 4 * 4, 2)
    with torch.no_grad():  # a model that looks only at the top-left block
        lin.weight.zero_()
        w = torch.zeros(3, 4, 4)
        w[:, :2, :2] = 1.0
        lin.weight[1] = w.flatten()
    model = nn.Sequential(nn.Flatten(), lin)
    x, y = torch.rand(8, 3, 4, 4), torch.ones(8, dtype=torch.long)
    mask = torch.zeros(8, 4, 4, dtype=torch.bool)
    mask[:, :2, :2] = True
    settings = {
        "methods": ["ig", "shap"],
        "n_images": 8,
        "n_baselines": 3,
        "n_figure": 2,
        "ig_steps": 8,
        "internal_batch_size": 64,
    }
    settings |= {"shap_samples": 4}
    ctx = probe_context(model, x, y, {"object_mask": mask, "cue_mask": ~mask})
    ctx.outputs["attributions"] = PROBES.get("attributions").run(ctx, settings)
    m = PROBES.get("localisation").run(ctx, {}).metrics
    assert m["ig_object_mass_ratio"] == pytest.approx(4.0, rel=1e-4)  # all mass in a quarter of the image
    assert m["ig_object_rank_acc"] == 1.0 and m["shap_object_pointing"] == 1.0 and m["ig_cue_pointing"] == 0.0
    assert {"random_object_mass_ratio", "edge_cue_rank_acc", "random_cue_pointing"} <= set(m)
    assert 0 < m["random_object_mass_ratio"] < 4.0
