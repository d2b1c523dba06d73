"""The 15 CIFAR-10-C corruptions, generated, and the released CIFAR-10-C layout."""

import json
import pickle

import numpy as np
import pytest
import torch

from irbench.data.cifar10c import CORRUPTIONS, corrupt, corruption_set, load_released
from irbench.errors import IrbenchError

from .conftest import SHARED_DATA


@pytest.fixture(scope="module")
def images():
    g = torch.Generator().manual_seed(0)
    smooth = torch.nn.functional.interpolate(torch.rand(6, 3, 8, 8, generator=g), size=32, mode="bilinear")
    return (smooth * 255).round().to(torch.uint8)


def test_all_fifteen_standard_corruptions_are_there():
    assert len(CORRUPTIONS) == 15
    assert {"gaussian_noise", "frost", "jpeg_compression", "elastic_transform", "zoom_blur"} <= set(
        CORRUPTIONS
    )


@pytest.mark.parametrize("name", sorted(CORRUPTIONS))
def test_each_corruption_changes_images_keeps_shape_and_is_seeded(images, name):
    out = corrupt(images, name, 3, seed=1)
    assert out.shape == images.shape and out.dtype == torch.uint8
    assert (out.float() - images.float()).abs().mean() > 0.5
    assert torch.equal(out, corrupt(images, name, 3, seed=1))


@pytest.mark.parametrize("name", ["gaussian_noise", "impulse_noise", "contrast", "defocus_blur", "zoom_blur"])
def test_higher_severity_distorts_more(images, name):
    diffs = [(corrupt(images, name, s, 0).float() - images.float()).abs().mean().item() for s in (1, 3, 5)]
    assert diffs[0] < diffs[1] < diffs[2]


def test_bad_name_and_severity_are_refused(images):
    with pytest.raises(ValueError, match="unknown corruption 'rain'"):
        corrupt(images, "rain", 1, 0)
    with pytest.raises(ValueError, match="severity must be 1..5"):
        corrupt(images, "fog", 6, 0)


def _released(root, n_per=4, shape=(32, 32, 3)):
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in ("fog", "snow"):
        np.save(root / f"{name}.npy", rng.integers(0, 256, (5 * n_per, *shape), dtype=np.uint8))
    np.save(root / "labels.npy", np.tile(np.arange(n_per), 5).astype(np.int64))
    return root


def test_released_layout_reads_severity_blocks(tmp_path):
    root = _released(tmp_path / "c")
    out, labels = load_released(root, ["fog", "snow"], [1, 5], n_images=3)
    assert set(out) == {"fog/1", "fog/5", "snow/1", "snow/5"} and labels.tolist() == [0, 1, 2]
    raw = np.load(root / "fog.npy")
    assert torch.equal(out["fog/5"], torch.from_numpy(raw[16:19]).permute(0, 3, 1, 2))
    s = corruption_set(torch.zeros(3, 3, 32, 32, dtype=torch.uint8), labels, ["fog"], [2], 0, released=root)
    assert s["source"] == str(root) and s["images"]["fog/2"].shape == (3, 3, 32, 32)


def test_released_layout_errors_name_the_file(tmp_path):
    root = _released(tmp_path / "c")
    with pytest.raises(IrbenchError, match=r"frost.npy: file not found \(expected the CIFAR-10-C layout"):
        load_released(root, ["frost"], [1], 2)
    np.save(root / "fog.npy", np.zeros((20, 32, 32), dtype=np.uint8))
    with pytest.raises(IrbenchError, match=r"fog.npy: expected uint8 \(20, H, W, 3\)"):
        load_released(root, ["fog"], [1], 2)
    np.save(root / "labels.npy", np.zeros(7, dtype=np.int64))
    with pytest.raises(IrbenchError, match="expected 5 equal severity blocks, found 7"):
        load_released(root, ["snow"], [1], 2)


def test_generated_set_covers_every_name_and_severity(images):
    labels = torch.arange(len(images))
    s = corruption_set(images, labels, ["fog", "pixelate"], [1, 2, 3], seed=0)
    assert s["source"] == "generated" and len(s["images"]) == 6 and torch.equal(s["labels"], labels)


REFERENCE = SHARED_DATA / "reference"
DETERMINISTIC = ["defocus_blur", "zoom_blur", "pixelate", "contrast", "brightness", "jpeg_compression"]
STOCHASTIC = ["gaussian_noise", "shot_noise", "impulse_noise", "glass_blur", "elastic_transform", "fog"]


@pytest.fixture(scope="module")
def cifar_test():
    """The first 64 real CIFAR-10 test images, uint8 (N, 3, 32, 32)."""
    path = SHARED_DATA / "cifar10/cifar-10-batches-py/test_batch"
    if not (REFERENCE / "cifar10c_reference_first16.npz").is_file() or not path.is_file():
        pytest.skip(f"the reference outputs or CIFAR-10 test batch are not in {SHARED_DATA}")
    with open(path, "rb") as f:
        data = pickle.load(f, encoding="bytes")
    return torch.from_numpy(data[b"data"][:64].reshape(64, 3, 32, 32))


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_deterministic_corruptions_match_hendrycks_outputs(cifar_test, name):
    """Within a mean of 1/255 of the original make_cifar_c.py on the same 16 real images, every severity."""
    ref = np.load(REFERENCE / "cifar10c_reference_first16.npz")
    assert torch.equal(torch.from_numpy(ref["clean"]).permute(0, 3, 1, 2), cifar_test[:16])
    for s in range(1, 6):
        theirs = torch.from_numpy(ref[f"{name}_s{s}"]).permute(0, 3, 1, 2).double()
        diff = (corrupt(cifar_test[:16], name, s, seed=0).double() - theirs).abs().mean().item()
        assert diff <= 1.0, f"{name} severity {s}: mean |ours - original| = {diff:.2f} / 255"


@pytest.mark.parametrize("name", STOCHASTIC)
def test_stochastic_corruptions_have_the_originals_strength(cifar_test, name):
    """Mean |c(x) - x| on 64 real images within 10% of the original's, every severity (3 seeds averaged:
    one draw of elastic_transform varies by about 5%)."""
    want = json.loads((REFERENCE / "cifar10c_reference_strength.json").read_text())
    want = want["strength_mean_abs_255_first64"][name]
    for s in range(1, 6):
        ours = np.mean(
            [
                (corrupt(cifar_test, name, s, seed).double() - cifar_test.double()).abs().mean()
                for seed in range(3)
            ]
        )
        assert abs(ours / want[s - 1] - 1) <= 0.10, f"{name} severity {s}: {ours:.2f} vs {want[s - 1]:.2f}"


def test_glass_blur_copies_neighbours_as_the_original_does():
    """The original's pixel 'swap' assigns NumPy views: each visited pixel takes a neighbour's value, so
    glass blur at sigma ~0 only duplicates pixels that were there (values are a subset of the input's)."""
    x = torch.arange(3 * 32 * 32, dtype=torch.float64).reshape(1, 3, 32, 32) % 256
    from irbench.data.cifar10c import glass_blur

    out = glass_blur(x / 255, 1, np.random.default_rng(0)) * 255
    assert set(out.round().flatten().tolist()) <= set(x.flatten().tolist())
