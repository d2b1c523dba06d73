"""Jobs sized to their work (irbench.sizing): FLOPs counted on the meta device, runtimes per job kind,
more on a resubmission, and the paper-scale campaign in GPU-hours instead of a day per job."""

from __future__ import annotations

from irbench.config import load_yaml, resolve
from irbench.sizing import campaign, evaluate_minutes, forward_flops, minutes, train_minutes

from .conftest import ROOT


def _paper():
    raw = dict(load_yaml(ROOT / "params.yaml"))
    raw["scale"] = "paper"
    raw["vision"] = {**raw["vision"], "datasets": ["cifar10", "small_imagenet150"]}
    raw["mer"] = {**raw["mer"], "datasets": ["soundtracks"]}
    raw["lime"] = {**raw["lime"], "datasets": ["cifar10"]}
    return resolve(raw)


def test_forward_flops_are_counted_without_computing():
    # the CIFAR ResNet-18: 0.56 G multiply-adds per 32 px image, 1.1 GFLOPs
    assert 1.0e9 < forward_flops({"arch": "resnet18", "width": 64}, 10, (3, 32, 32)) < 1.2e9
    # the ImageNet ResNet-50 (large stem) on 128 px: 4.1 G multiply-adds at 224 px, scaled by (128/224)^2
    assert 2.5e9 < forward_flops({"arch": "resnet50", "stem": "large"}, 150, (3, 128, 128)) < 2.9e9


def test_each_job_asks_for_what_its_work_needs_and_more_when_resubmitted():
    cfg = _paper()
    cifar = {v: train_minutes(cfg, "vision", v, "cifar10") for v in ("standard", "l2_robust", "trades")}
    assert cifar["standard"] < cifar["trades"] < cifar["l2_robust"] <= 180  # 20 PGD steps per batch
    inet = train_minutes(cfg, "vision", "l2_robust", "small_imagenet150")
    assert cifar["l2_robust"] < inet <= 12 * 60 and train_minutes(cfg, "mer", "A2E", "soundtracks") <= 30
    assert evaluate_minutes(cfg, "vision", "standard", "cifar10") > train_minutes(
        cfg, "vision", "standard", "cifar10"
    )
    assert train_minutes(cfg, "vision", "l2_robust", "cifar10", attempt=2) == 2 * cifar["l2_robust"]
    assert minutes(0, 1e9) == 15  # at least a quarter of an hour


def test_the_paper_campaign_is_hundreds_of_gpu_hours_not_thousands():
    line = campaign(_paper())
    assert line.startswith("irbench: on a cluster this plan asks for 93 train and 93 evaluate GPU jobs")
    hours = int(line.split(" GPU-hours")[0].rsplit(" ", 1)[1])
    assert 50 < hours < 500  # one 24 h request per job was 4,464


def test_a_model_that_cannot_be_counted_asks_for_a_day_and_does_not_stop_the_plan():
    from irbench.sizing import UNKNOWN_MIN

    cfg = _paper()
    cfg["datasets"]["small_imagenet150"]["image_size"] = 32  # a ResNet-50 down to 1 x 1: counted in eval mode
    assert train_minutes(cfg, "vision", "standard", "small_imagenet150") < UNKNOWN_MIN
    cfg["vision"]["model"] = {**cfg["vision"]["model"], "arch": "resnet18", "width": 0}  # not buildable
    cfg["vision"]["per_dataset"] = {}
    assert train_minutes(cfg, "vision", "standard", "cifar10") == UNKNOWN_MIN
