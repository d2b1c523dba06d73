import numpy as np
import pytest
from PIL import Image

from irbench.data.imagenet_subset import load_imagenet_subset
from irbench.errors import IrbenchError


def _make(root, classes=5, per_split=(6, 3)):
    rng = np.random.default_rng(0)
    for split, n in zip(("train", "val"), per_split, strict=True):
        for c in range(classes):
            d = root / split / f"n{c:08d}"
            d.mkdir(parents=True)
            for i in range(n):
                arr = rng.integers(0, 256, (40 + i, 50, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"img{i}.JPEG")


def test_seeded_subset_of_classes_and_images_resized(tmp_path):
    _make(tmp_path / "inet")
    kw = dict(n_classes=3, n_train=4, n_val=2, image_size=16, seed=1)
    a, names = load_imagenet_subset(tmp_path / "inet", **kw)
    b, names_b = load_imagenet_subset(tmp_path / "inet", **kw)
    assert names == names_b and len(names) == 3
    assert a["train"]["images"].shape == (12, 3, 16, 16) and a["test"]["images"].shape == (6, 3, 16, 16)
    np.testing.assert_array_equal(a["train"]["images"], b["train"]["images"])
    assert sorted(np.bincount(a["train"]["labels"])) == [4, 4, 4]
    c, _ = load_imagenet_subset(tmp_path / "inet", **{**kw, "seed": 2})
    assert not np.array_equal(a["train"]["images"], c["train"]["images"])


def test_layout_errors_name_the_path(tmp_path):
    with pytest.raises(IrbenchError, match="inet/train: folder not found"):
        load_imagenet_subset(tmp_path / "inet", n_classes=1, n_train=1, n_val=1, image_size=8, seed=0)
    _make(tmp_path / "inet", classes=2)
    with pytest.raises(IrbenchError, match="expected at least 3 class folders"):
        load_imagenet_subset(tmp_path / "inet", n_classes=3, n_train=1, n_val=1, image_size=8, seed=0)
    with pytest.raises(IrbenchError, match="expected at least 10 images, found 6"):
        load_imagenet_subset(tmp_path / "inet", n_classes=2, n_train=10, n_val=1, image_size=8, seed=0)
    (tmp_path / "inet/train/n00000000/img0.JPEG").write_bytes(b"not a jpeg")
    with pytest.raises(IrbenchError, match="img0.JPEG: cannot be read as an image"):
        load_imagenet_subset(tmp_path / "inet", n_classes=2, n_train=6, n_val=1, image_size=8, seed=0)


def test_prepared_through_the_dataset_entry(tmp_path):
    from irbench.datasets import prepare_dataset

    _make(tmp_path / "inet")
    spec = {
        "kind": "imagenet_subset",
        "root": str(tmp_path / "inet"),
        "n_classes": 2,
        "n_train": 3,
        "n_val": 2,
        "image_size": 16,
        "seed": 0,
        "test_root": str(tmp_path / "inet" / "val"),
    }
    meta = prepare_dataset(spec, tmp_path / "inet.pt")
    assert meta["n_classes"] == 2 and meta["image_size"] == 16
