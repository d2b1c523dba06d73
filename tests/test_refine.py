"""LIME-guided refinement: the flag rule, its scores against ground truth, the retraining objective and
the refinement loop end to end on a tiny dataset."""

import numpy as np
import pytest
import torch

from irbench.data.tensors import save_dataset
from irbench.explain.lime_batch import Explanation
from irbench.io import save_torch
from irbench.lime_refinement import central_box, flag_regions, flag_scores, refine_variant
from irbench.models import build_model
from irbench.objectives.refine import fill_regions, refine, rrr_penalty

RULE = {
    "top_k": 2,
    "wrong_class": True,
    "outside_center": True,
    "center_fraction": 0.5,
    "outside_fraction": 0.5,
}
IMAGES = np.zeros((1, 3, 8, 8))


def _explanation(pred: int, weights: list[float]) -> Explanation:
    """8x8 image, 4 superpixels: 0 = top-left quadrant ... 3 = bottom-right; weights for `pred`."""
    seg = np.zeros((8, 8), dtype=int)
    seg[:4, 4:], seg[4:, :4], seg[4:, 4:] = 1, 2, 3
    probs = np.full(3, 0.1)
    probs[pred] = 0.8
    return Explanation(seg, {pred: np.array(weights)}, probs)


def test_outside_center_flags_relied_superpixels_off_the_central_box():
    seg_centre = _explanation(0, [0.0, 0.0, 0.0, 0.0])
    seg_centre.segments[2:6, 2:6] = 4  # a central superpixel
    seg_centre.weights[0] = np.array([0.5, 0.0, 0.0, 0.0, 0.9])
    flags = flag_regions([seg_centre], np.array([0]), RULE, IMAGES)[0]
    assert flags[:2, :2].all() and not flags[2:6, 2:6].any()  # corner flagged, centre kept


def test_wrong_prediction_flags_its_supporting_superpixels_and_switches_work():
    exp = _explanation(1, [0.0, 0.0, 0.0, 0.0])
    exp.segments[2:6, 2:6] = 4
    exp.weights[1] = np.array([-0.3, 0.0, 0.0, 0.0, 0.9])  # relied on: the centre only
    assert flag_regions([exp], np.array([0]), RULE, IMAGES)[0][2:6, 2:6].all()  # wrong class: flagged anyway
    assert not flag_regions([exp], np.array([1]), RULE, IMAGES)[0].any()  # right class, central: kept
    off = {**RULE, "wrong_class": False}
    assert not flag_regions([exp], np.array([0]), off, IMAGES)[0].any()
    assert central_box(8, 0.5)[2:6, 2:6].all() and central_box(8, 0.5).sum() == 16


def test_recurring_flags_a_look_repeated_across_a_class_without_using_location():
    # three images predicted as class 0; each relies on two superpixels: a red token that sits in a different
    # quadrant on every image, and an object part whose colour differs from image to image
    exps, images = [], np.zeros((3, 3, 8, 8))
    for i, (token, part) in enumerate([(0, 3), (1, 2), (3, 0)]):
        exp = _explanation(0, [0.0, 0.0, 0.0, 0.0])
        exp.weights[0][[token, part]] = [0.9, 0.5]
        images[i][:, exp.segments == token] = np.array([[0.9], [0.1], [0.1]])
        images[i][:, exp.segments == part] = np.array([[0.1 + 0.3 * i], [0.6], [0.2 * i]])
        exps.append(exp)
    rule = {"top_k": 2, "wrong_class": False, "outside_center": False, "recurring": True}
    flags = flag_regions(
        exps, np.zeros(3, dtype=int), {**rule, "recurring_tol": 0.08, "recurring_share": 0.5}, images
    )
    for i, (token, part) in enumerate([(0, 3), (1, 2), (3, 0)]):
        assert flags[i][exps[i].segments == token].all() and not flags[i][exps[i].segments == part].any()
    # a share no other image reaches flags nothing; the switch off flags nothing
    assert not flag_regions(exps, np.zeros(3, dtype=int), {**rule, "recurring_share": 1.01}, images).any()
    assert not flag_regions(exps, np.zeros(3, dtype=int), {**rule, "recurring": False}, images).any()


def test_flag_scores_against_cue_and_object_masks():
    flags = np.zeros((1, 4, 4), dtype=bool)
    flags[0, 0, :2] = True  # 2 pixels flagged
    cue = np.zeros_like(flags)
    cue[0, 0, :4] = True  # 4 cue pixels, 2 of them flagged
    obj = np.zeros_like(flags)
    s = flag_scores(flags, cue, obj)
    assert s["flag_precision"] == 1.0 and s["flag_recall"] == 0.5 and s["flag_on_object"] == 0.0


def test_fill_modes_change_only_flagged_pixels():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))  # not the noise fill's seed
    mask = torch.zeros(2, 1, 8, 8, dtype=torch.bool)
    mask[:, :, :3, :3] = True
    for fill in ("mean", "blur", "noise"):
        y = fill_regions(x, mask, fill, torch.Generator().manual_seed(0))
        assert torch.equal(y[:, :, 3:], x[:, :, 3:]) and not torch.equal(y[:, :, :3, :3], x[:, :, :3, :3])
    with pytest.raises(ValueError, match="unknown fill 'zero'"):
        fill_regions(x, mask, "zero")


def test_rrr_penalty_is_the_gradient_mass_inside_the_mask_and_trains():
    model = build_model({"arch": "resnet18", "width": 4}, n_classes=3).eval()
    x = torch.rand(2, 3, 16, 16)
    none = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
    assert rrr_penalty(model, x, none).item() == 0.0
    corner = none.clone()
    corner[:, :, :4, :4] = True
    p = rrr_penalty(model, x, corner)
    assert p.item() > 0
    p.backward()
    assert any(q.grad is not None and q.grad.abs().sum() > 0 for q in model.parameters())
    objective = refine("mean", 10.0, None)
    loss, out = objective(model.train(), x, torch.tensor([0, 1]), 0, mask=corner)
    assert out.shape == (2, 3) and torch.isfinite(loss)


@pytest.fixture
def tiny_data(tmp_path):
    """Images whose class is a bright corner patch (a cue) on noise, with cue/object masks."""
    g = torch.Generator().manual_seed(0)
    n = 48
    x = (torch.rand(n, 3, 16, 16, generator=g) * 80).to(torch.uint8)
    y = torch.arange(n) % 2
    cue = torch.zeros(n, 16, 16, dtype=torch.bool)
    cue[y == 1, :4, :4] = True
    x[cue[:, None].expand_as(x)] = 255
    obj = torch.zeros_like(cue)
    obj[:, 6:10, 6:10] = True
    split = {"images": x.numpy(), "labels": y.numpy(), "cue_mask": cue.numpy(), "object_mask": obj.numpy()}
    path = tmp_path / "d.pt"
    save_dataset({"train": split, "test": split}, {"n_classes": 2, "image_size": 16}, path)
    return path


SPEC = {
    "model": {"arch": "resnet18", "width": 4},
    "train": {
        "epochs": 1,
        "batch_size": 16,
        "optimizer": "adam",
        "lr": 0.001,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "constant",
        "augment": ["flip"],
        "val_fraction": 0.2,
        "val_size_max": 100,
    },
    "objective": "refine",
    "attack": {"method": "fgsm", "norm": "linf", "eps": 0.03, "steps": 1},
    "refine": {
        "from": "baseline",
        "rounds": 2,
        "n_explain": 6,
        "num_samples": 40,
        "batch_size": 64,
        "segmentation": {"algo": "slic", "n_segments": 16, "compactness": 10.0, "sigma": 1.0},
        "flag": RULE,
        "fill": "mean",
        "rrr_weight": 1.0,
    },
}


def test_refinement_runs_rounds_scores_flags_and_is_seeded(tiny_data, tmp_path):
    base = build_model(SPEC["model"], n_classes=2)
    save_torch({"state_dict": base.state_dict(), "info": {}}, tmp_path / "base.pt")
    a = refine_variant(tiny_data, SPEC, tmp_path / "base.pt", seed=1, log=lambda m: None)
    assert [r["round"] for r in a.info["rounds"]] == [1, 2] and len(a.history) == 2
    assert a.info["lime_s"] > 0 and a.info["retrain_s"] > 0 and a.info["seed"] == 1
    assert 0 <= a.info["flag_precision"] <= 1 and 0 <= a.info["flag_recall"] <= 1
    b = refine_variant(tiny_data, SPEC, tmp_path / "base.pt", seed=1, log=lambda m: None)
    assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    assert a.info["rounds"] == [
        {**r, "lime_s": a.info["rounds"][i]["lime_s"]} for i, r in enumerate(b.info["rounds"])
    ]


def test_a_killed_refinement_resumes_from_its_round_checkpoints(tiny_data, tmp_path):
    base = build_model(SPEC["model"], n_classes=2)
    save_torch({"state_dict": base.state_dict(), "info": {}}, tmp_path / "base.pt")
    spec = {**SPEC, "train": {**SPEC["train"], "epochs": 2}}
    full = refine_variant(tiny_data, spec, tmp_path / "base.pt", seed=2, log=lambda m: None)
    ckpt = tmp_path / "ckpt.pt"
    # a run that stopped after round 1 and one epoch of round 2: its checkpoints, as a killed job leaves them
    from irbench.training import train_variant

    calls = []

    def stop_in_round_two(row):
        calls.append(row)
        if len(calls) == 4:  # round 2, epoch 2: epoch 1 of round 2 is checkpointed
            raise KeyboardInterrupt

    import irbench.lime_refinement as refine_module

    original = refine_module.train_variant

    def wrapped(*args, **kwargs):
        return original(*args, on_epoch=stop_in_round_two, **kwargs)

    refine_module.train_variant = wrapped
    try:
        with pytest.raises(KeyboardInterrupt):
            refine_variant(
                tiny_data, spec, tmp_path / "base.pt", seed=2, checkpoint_path=ckpt, log=lambda m: None
            )
    finally:
        refine_module.train_variant = original
    assert (tmp_path / "ckpt.pt.round1").exists() and (tmp_path / "ckpt.pt.round2").exists()
    logs = []
    resumed = refine_variant(
        tiny_data, spec, tmp_path / "base.pt", seed=2, checkpoint_path=ckpt, log=logs.append
    )
    assert any("resuming" in m and "after epoch 1" in m for m in logs)
    assert all(torch.equal(full.state_dict[k], resumed.state_dict[k]) for k in full.state_dict)
    assert not list(tmp_path.glob("ckpt.pt.round*"))
    assert train_variant is original
