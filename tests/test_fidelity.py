"""FID and KID through torch-fidelity, and its Inception-v3 read from a local weights file."""

import numpy as np
import pytest
import torch

from irbench.errors import IrbenchError
from irbench.metrics.fidelity import fid, kid
from irbench.metrics.inception import build_extractor


def test_fid_matches_the_closed_form_and_is_zero_for_identical_sets():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4000, 3)) * np.array([1.0, 2.0, 3.0])
    b = rng.normal(size=(4000, 3)) * np.array([2.0, 1.0, 1.0]) + np.array([1.0, 0.0, -2.0])
    s1, s2 = np.var(a, axis=0, ddof=1), np.var(b, axis=0, ddof=1)
    mu = a.mean(0) - b.mean(0)
    # nearly diagonal sample covariances: the closed form of diagonal Gaussians within sampling error
    expected = np.sum(mu**2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert fid(a, b) == pytest.approx(expected, rel=0.02)
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 8)), rng.normal(size=(300, 8))
    assert abs(kid(a, b, subsets=20)) < 0.05 < kid(a, b + 1.0, subsets=20)


def test_torch_fidelity_extractor_reads_a_local_weights_file(tmp_path, monkeypatch):
    """torch-fidelity's Inception from a file (here its own layout with random weights: no download), giving
    the 192-d pooled mid features and the 2048-d FID features; a wrong file is named."""
    import torch_fidelity.feature_extractor_inceptionv3 as fe

    monkeypatch.setattr(fe, "load_state_dict_from_url", lambda *a, **k: None)
    monkeypatch.setattr(fe.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None)
    torch.manual_seed(0)
    state = fe.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"]).state_dict()
    monkeypatch.undo()
    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    net = build_extractor({"kind": "torch_fidelity", "weights": str(path)})
    out = net(torch.rand(2, 3, 32, 32))
    assert out["mid"].shape == (2, 192) and out["pool"].shape == (2, 2048)
    torch.save({"nope": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(IrbenchError, match="bad.pth: not torch-fidelity's Inception weights"):
        build_extractor({"kind": "torch_fidelity", "weights": str(tmp_path / "bad.pth")})
    with pytest.raises(IrbenchError, match="weights-inception-2015-12-05-6726825d.pth, torch-fidelity's"):
        build_extractor({"kind": "torch_fidelity", "weights": str(tmp_path / "missing.pth")})
