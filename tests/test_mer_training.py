import pytest
import torch

from irbench.datasets import prepare_dataset
from irbench.objectives.mer import mer
from irbench.training import train_variant

TRAIN = {
    "epochs": 5,
    "batch_size": 8,
    "optimizer": "adam",
    "lr": 0.002,
    "momentum": 0.9,
    "weight_decay": 0.0,
    "schedule": "constant",
    "augment": [],
    "val_fraction": 0.1,
    "val_size_max": 100,
}
BIM = {"method": "bim", "norm": "linf", "eps": 0.001, "step": 0.002, "steps": 2}


@pytest.fixture(scope="module")
def mer_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("mer") / "mer.pt"
    prepare_dataset({"kind": "synthetic_mer", "n_clips": 40, "noise": 0.3, "seed": 0, "n_frames": 64}, path)
    return path


def _spec(head, mid_weight=1.0, attack=None, **train):
    spec = {
        "model": {"arch": "mer_vgg", "head": head, "width_factor": 0.125},
        "train": {**TRAIN, **train},
        "objective": "mer",
        "attack": attack,
        "mid_weight": mid_weight,
    }
    return spec


def _quiet(_):
    pass


def test_every_mer_variant_trains_and_validates_by_correlation(mer_data):
    for head, w, attack in (("a2e", 1.0, None), ("bottleneck", 0.5, None), ("bottleneck", 1.0, BIM)):
        r = train_variant(mer_data, _spec(head, w, attack), seed=0, log=_quiet)
        assert len(r.history) == 5 and "val_corr" in r.history[0] and "train_acc" not in r.history[0]
        row = r.history[0]
        if head == "bottleneck":  # early stopping on emotion plus mid-level correlation, as the reference
            assert row["score"] == pytest.approx(row["val_corr"] + row["val_mid_corr"])
        else:
            assert "val_mid_corr" not in row and row["score"] == row["val_corr"]
        assert r.history[-1]["train_loss"] < r.history[0]["train_loss"]
        assert -1 <= r.best_score <= 1 and r.info["n_val"] == 4  # the dataset's own 10% validation split


def test_same_seed_same_history_and_early_stopping(mer_data):
    a = train_variant(mer_data, _spec("a2e"), seed=1, log=_quiet)
    b = train_variant(mer_data, _spec("a2e"), seed=1, log=_quiet)
    assert a.history == [{**h, "epoch_s": a.history[i]["epoch_s"]} for i, h in enumerate(b.history)]
    lines = []
    c = train_variant(mer_data, _spec("a2e", epochs=30, patience=2), seed=1, log=lines.append)
    assert (
        len(c.history) < 30 and c.best_epoch == len(c.history) - 2 and any("early stop" in x for x in lines)
    )


def test_adversarial_second_step_only_every_fifth_epoch_and_bottleneck_loss():
    torch.manual_seed(0)
    from irbench.models.vgg import MERNet

    model = MERNet("bottleneck", width=0.125)
    x, y = torch.randn(4, 1, 32, 32), torch.rand(4, 15)
    obj = mer(0.5, BIM, adv_every=5)
    assert obj.second_step(model, x, y, epoch=3) is None
    assert obj.second_step(model, x, y, epoch=4) is not None
    assert mer(1.0).second_step(model, x, y, epoch=4) is None
    loss_w, _ = obj(model, x, y)
    loss_e, _ = mer(1.0)(model, x, y)
    assert not torch.isclose(loss_w, loss_e)
    with pytest.raises(ValueError, match="bottleneck"):
        mer(0.5)(MERNet("a2e", width=0.125), x, y)


def test_the_ridge_reference_script_scores_the_linear_features_on_the_test_clips(tmp_path):
    """scripts/mer_ridge.py: ridge on each band's mean/std, penalty by 5-fold CV, scored on the test clips;
    on synthetic clips whose ratings follow audible attributes it finds a positive correlation."""
    import subprocess
    import sys

    from .conftest import ROOT

    def ridge(*args):
        cmd = [sys.executable, str(ROOT / "scripts/mer_ridge.py"), *map(str, args)]
        return subprocess.run(cmd, capture_output=True, text=True)

    path = tmp_path / "mer.pt"
    prepare_dataset({"kind": "synthetic_mer", "n_clips": 200, "noise": 0.3, "seed": 0, "n_frames": 128}, path)
    proc = ridge(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    corr = float(proc.stdout.split("test corr ")[1])
    assert 0.2 < corr < 1.0, proc.stdout
    usage = ridge()
    assert usage.returncode == 2 and "Usage" in usage.stderr
    missing = tmp_path / "none.pt"
    bad = ridge(missing)
    assert bad.returncode == 1 and bad.stderr.strip().splitlines() == [
        f"mer_ridge: {missing}: file not found (expected a tensor file written by irbench)"
    ]
