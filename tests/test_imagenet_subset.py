import numpy as np
import pytest
from PIL import Image

from irbench.datasets.imagenet_subset import load_imagenet_subset
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
    with pytest.raises(IrbenchError, match=r"expected at least 10 images of n\d+, found 6"):
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


def test_the_aspect_is_kept_and_the_centre_cropped_as_torchvision_does(tmp_path):
    """An 80x40 image of red | blue | blue | green quarters: resizing its shorter side to 16 and cropping
    the centre 16x16 keeps the blue middle; a square resize would squeeze red and green in."""
    from irbench.datasets.imagenet_subset import _read

    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :20, 0], arr[:, 20:60, 2], arr[:, 60:, 1] = 255, 255, 255
    Image.fromarray(arr).save(tmp_path / "wide.png")
    out = _read(tmp_path / "wide.png", 16)
    assert out.shape == (3, 16, 16) and out[2].min() > 200 and out[0].max() < 60 and out[1].max() < 60
    assert _read(tmp_path / "wide.png", 16, resize_to=20).shape == (3, 16, 16)


def test_the_stock_flat_val_folder_reads_its_labels_csv(tmp_path):
    _make(tmp_path / "inet", classes=3, per_split=(4, 0))
    val = tmp_path / "inet" / "val"
    for p in val.iterdir():
        p.rmdir()
    rows = ["ImageId,PredictionString"]
    for c in range(3):
        for i in range(2):
            name = f"ILSVRC2012_val_{c * 2 + i:08d}"
            Image.fromarray(np.full((20, 30, 3), 40 * c, np.uint8)).save(val / f"{name}.JPEG")
            rows.append(f"{name},n{c:08d} 1 2 3 4 n{c:08d} 5 6 7 8")
    (tmp_path / "LOC_val_solution.csv").write_text("\n".join(rows) + "\n")
    kw = dict(n_classes=3, n_train=2, n_val=2, image_size=8, seed=0)
    with pytest.raises(IrbenchError, match="val: a flat folder of images .*'val_labels' key"):
        load_imagenet_subset(tmp_path / "inet", **kw)
    splits, names = load_imagenet_subset(
        tmp_path / "inet", **kw, val_labels=tmp_path / "LOC_val_solution.csv"
    )
    test = splits["test"]
    assert names == ["n00000000", "n00000001", "n00000002"] and list(test["labels"]) == [0, 0, 1, 1, 2, 2]
    assert [int(test["images"][i].mean()) for i in (0, 2, 4)] == [0, 40, 80]  # each image with its class


def test_imagenetv2_numeric_folders_are_imagenet_class_indices(tmp_path):
    root, v2 = tmp_path / "inet", tmp_path / "imagenetv2"
    for c in range(1000):
        for folder in (root / "train" / f"n{c:08d}", root / "val" / f"n{c:08d}", v2 / str(c)):
            folder.mkdir(parents=True)
            Image.fromarray(np.full((8, 8, 3), c % 250, np.uint8)).save(folder / "a.png")
    splits, names = load_imagenet_subset(
        root, n_classes=3, n_train=1, n_val=1, image_size=8, seed=0, test_root=v2
    )
    index = [int(n[1:]) for n in names]
    assert [int(x.mean()) for x in splits["extra_test"]["images"]] == [i % 250 for i in index]
    for c in range(500, 1000):
        (root / "train" / f"n{c:08d}" / "a.png").unlink()
        (root / "train" / f"n{c:08d}").rmdir()
    with pytest.raises(IrbenchError, match="numeric class folders .* needs all 1,000 class folders"):
        load_imagenet_subset(root, n_classes=3, n_train=1, n_val=1, image_size=8, seed=0, test_root=v2)
