"""SVHN's MATLAB layout: read into (N, 3, 32, 32) uint8 with digit labels; bad files named in one line."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.io import savemat

from irbench.datasets import prepare_dataset
from irbench.errors import IrbenchError


def _write(root, n=6, shape=(32, 32, 3)):
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        x = rng.integers(0, 256, size=(*shape, n), dtype=np.uint8)
        savemat(root / f"{split}_32x32.mat", {"X": x, "y": np.arange(1, n + 1).reshape(n, 1)})


def test_svhn_reads_images_channels_first_and_maps_label_10_to_digit_0(tmp_path):
    from irbench.data.tensors import load_split

    _write(tmp_path, n=10)
    meta = prepare_dataset({"kind": "svhn", "root": str(tmp_path)}, tmp_path / "svhn.pt")
    assert meta["n_classes"] == 10 and meta["task"] == "classification"
    test = load_split(tmp_path / "svhn.pt", "test", raw=True)
    assert test.x.shape == (10, 3, 32, 32) and test.y.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]


def test_a_missing_or_misshapen_svhn_file_is_named(tmp_path):
    with pytest.raises(IrbenchError, match=r"train_32x32.mat: file not found"):
        prepare_dataset({"kind": "svhn", "root": str(tmp_path)}, tmp_path / "svhn.pt")
    _write(tmp_path, shape=(28, 28, 3))
    with pytest.raises(IrbenchError, match=r"train_32x32.mat: expected X uint8 of shape \(32, 32, 3, N\)"):
        prepare_dataset({"kind": "svhn", "root": str(tmp_path)}, tmp_path / "svhn.pt")
    assert not (tmp_path / "svhn.pt").exists()
