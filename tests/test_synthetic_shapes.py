import numpy as np
import pytest

from irbench.datasets.synthetic_shapes import CUE_COLOURS, CUE_INDEPENDENT, CUE_SIZE, generate


def _gen(**kw):
    args = dict(n_train=2000, n_test=2000, n_classes=10, image_size=32, p_train=0.9, seed=3)
    args.update(kw)
    return generate(**args)


def test_same_seed_same_images_and_different_seed_differs():
    a, b, c = _gen(), _gen(), _gen(seed=4)
    for split in ("train", "test"):
        for key in a[split]:
            np.testing.assert_array_equal(a[split][key], b[split][key])
    assert not np.array_equal(a["train"]["images"], c["train"]["images"])


def test_shapes_dtypes_and_masks():
    tr = _gen()["train"]
    assert tr["images"].shape == (2000, 3, 32, 32) and tr["images"].dtype == np.uint8
    assert tr["object_mask"].shape == tr["cue_mask"].shape == (2000, 32, 32)
    assert not (tr["object_mask"] & tr["cue_mask"]).any()
    assert (tr["object_mask"].sum((1, 2)) > 10).all()
    assert (tr["cue_mask"].sum((1, 2)) <= CUE_SIZE**2).all()
    # Cue pixels carry the cue label's colour exactly.
    i = int(np.argmax(tr["cue_mask"].sum((1, 2))))
    ys, xs = np.nonzero(tr["cue_mask"][i])
    expected = np.round(CUE_COLOURS[tr["cue_labels"][i]] * 255)
    np.testing.assert_array_equal(tr["images"][i][:, ys[0], xs[0]], expected)


def test_cue_agrees_with_p_train_in_train_and_is_independent_in_test():
    d = _gen(p_train=0.8)
    agree_train = (d["train"]["cue_labels"] == d["train"]["labels"]).mean()
    agree_test = (d["test"]["cue_labels"] == d["test"]["labels"]).mean()
    assert agree_train == pytest.approx(0.8, abs=0.03)
    assert agree_test == pytest.approx(0.1, abs=0.03)


def test_p_test_makes_the_test_split_in_distribution_and_adds_a_cue_independent_one():
    plain, d = _gen(p_train=0.8), _gen(p_train=0.8, p_test=0.8)
    assert set(plain) == {"train", "test"} and set(d) == {"train", "test", CUE_INDEPENDENT}
    np.testing.assert_array_equal(plain["train"]["images"], d["train"]["images"])  # train unchanged
    assert (d["test"]["cue_labels"] == d["test"]["labels"]).mean() == pytest.approx(0.8, abs=0.03)
    shifted = d[CUE_INDEPENDENT]
    assert (shifted["cue_labels"] == shifted["labels"]).mean() == pytest.approx(0.1, abs=0.03)
    assert not np.array_equal(shifted["images"], d["test"]["images"])


def test_every_class_appears_and_labels_are_in_range():
    d = _gen(n_classes=4)
    assert set(np.unique(d["train"]["labels"])) == {0, 1, 2, 3}
    assert d["train"]["cue_labels"].max() < 4


def test_bad_class_count_is_rejected():
    with pytest.raises(ValueError, match="n_classes"):
        _gen(n_classes=11)


def test_nonrobust_pattern_is_small_class_specific_and_shared_between_splits():
    plain = _gen(n_train=500, n_test=10)
    marked = _gen(n_train=500, n_test=10, nonrobust_l2=0.3)
    diff = (
        marked["train"]["images"].astype(np.float32) / 255 - plain["train"]["images"].astype(np.float32) / 255
    )
    norms = np.linalg.norm(diff.reshape(len(diff), -1), axis=1)
    assert np.median(norms) == pytest.approx(0.3, abs=0.05)  # rounding and clipping move it a little
    labels = plain["train"]["labels"]
    a, b = np.flatnonzero(labels == 0)[:2]
    c = np.flatnonzero(labels == 1)[0]
    assert np.corrcoef(diff[a].ravel(), diff[b].ravel())[0, 1] > 0.8
    assert abs(np.corrcoef(diff[a].ravel(), diff[c].ravel())[0, 1]) < 0.2


def test_faint_fraction_lowers_object_contrast_on_that_share_of_images():
    def contrast(d):
        img = d["train"]["images"].astype(np.float32)
        mask = d["train"]["object_mask"][:, None]
        inside = (img * mask).sum((2, 3)) / mask.sum((2, 3))
        outside = (img * ~mask).sum((2, 3)) / (~mask).sum((2, 3))
        return np.abs(inside - outside).max(1)

    assert (contrast(_gen()) < 20).mean() < 0.05
    assert (contrast(_gen(faint_fraction=0.3)) < 20).mean() == pytest.approx(0.3, abs=0.06)
