import pytest
import torch

from irbench.errors import IrbenchError
from irbench.metrics.inception import (
    FID_WEIGHTS_FILE,
    FIDInception,
    RandomFeatures,
    build_extractor,
    extract,
    load_fid_inception,
)


def test_fid_inception_features_and_local_weights(tmp_path):
    torch.manual_seed(0)
    model = FIDInception().eval()
    weights = tmp_path / FID_WEIGHTS_FILE
    torch.save(model.net.state_dict(), weights)
    loaded = build_extractor({"kind": "inception", "weights": str(weights)})
    x = torch.rand(2, 3, 32, 32)
    a, b = extract(model, x), extract(loaded, x)
    assert a["mid"].shape == (2, 192) and a["pool"].shape == (2, 2048)  # mid: pooled, as the reference
    assert torch.allclose(a["pool"], b["pool"])


def test_missing_or_wrong_weights_name_the_file_and_the_source(tmp_path):
    with pytest.raises(IrbenchError, match=f"{FID_WEIGHTS_FILE}.*download it from https://"):
        load_fid_inception(tmp_path / "nowhere.pth")
    bad = tmp_path / "bad.pth"
    torch.save({"conv.weight": torch.zeros(1)}, bad)
    with pytest.raises(IrbenchError, match="bad.pth: not a state dict of the FID Inception"):
        load_fid_inception(bad)


def test_random_extractor_is_seeded_and_batch_independent():
    x = torch.rand(10, 3, 32, 32)
    a = extract(RandomFeatures(seed=1), x, batch_size=3)
    b = extract(build_extractor({"kind": "random", "seed": 1}), x, batch_size=10)
    c = extract(RandomFeatures(seed=2), x)
    assert a["mid"].shape == (10, 32) and a["pool"].shape == (10, 128)
    assert torch.allclose(a["pool"], b["pool"], atol=1e-6)
    assert not torch.allclose(a["pool"], c["pool"])


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    from irbench.metrics.fidelity import fid as feature_frechet_distance

    g = torch.Generator().manual_seed(0)
    x = torch.rand(200, 3, 16, 16, generator=g)
    y = torch.rand(200, 3, 16, 16, generator=g)
    f = RandomFeatures(0)
    fx, fy = extract(f, x)["pool"].numpy(), extract(f, y)["pool"].numpy()
    fshift = extract(f, (x * 0.5 + 0.5))["pool"].numpy()
    assert feature_frechet_distance(fx, fx) == pytest.approx(0, abs=1e-6)
    real_vs_real = feature_frechet_distance(fx, fy)
    assert 0 < real_vs_real < feature_frechet_distance(fx, fshift)


def test_weights_are_verified_before_any_job(tmp_path):
    """An empty file, a file whose sha256 is not the prefix its name carries (a partial download), and a file
    that is not a state dict each stop the run in one line before any job; a whole file passes."""
    import hashlib

    from irbench.metrics.inception import verify_weights

    empty = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    empty.write_bytes(b"")
    with pytest.raises(IrbenchError, match=r"6726825d.pth: empty file .*download it again from https://"):
        verify_weights(empty)
    empty.write_bytes(b"\x80\x02half a download")
    with pytest.raises(IrbenchError, match=r"sha256 starts [0-9a-f]{8}, not the 6726825d its name carries"):
        verify_weights(empty)
    blob = tmp_path / "blob.bin"
    torch.save({"w": torch.zeros(2)}, blob)
    named = tmp_path / f"weights-{hashlib.sha256(blob.read_bytes()).hexdigest()[:8]}.pth"
    blob.rename(named)
    assert verify_weights(named, "torch_fidelity") == named
    plain = tmp_path / "my_inception.pth"
    plain.write_text("not torch")
    with pytest.raises(IrbenchError, match=r"my_inception.pth: not a PyTorch weights file"):
        verify_weights(plain)
