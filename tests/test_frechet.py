import numpy as np
import pytest

from irbench.metrics.frechet import feature_frechet_distance, frechet_distance


def test_matches_the_closed_form_for_diagonal_covariances():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected)


def test_rotation_invariance_and_zero_for_identical_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    b = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4)) + 1.0
    assert feature_frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert feature_frechet_distance(a @ q, b @ q) == pytest.approx(feature_frechet_distance(a, b), rel=1e-6)


def test_shape_errors():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="N >= 2"):
        feature_frechet_distance(np.zeros((1, 2)), np.zeros((5, 2)))
