import pickle

import numpy as np
import pytest

from irbench.datasets import check_datasets, prepare_dataset
from irbench.datasets.cifar import load_cifar
from irbench.errors import IrbenchError

from .conftest import SHARED_DATA

CIFAR10 = SHARED_DATA / "cifar10" / "cifar-10-batches-py"


def _write(path, obj):
    with path.open("wb") as f:
        pickle.dump(obj, f)


def _fake_cifar100(root, n=20):
    rng = np.random.default_rng(0)
    batch = {"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), "fine_labels": list(range(n))}
    root.mkdir()
    _write(root / "train", batch)
    _write(root / "test", batch)
    _write(root / "meta", {"fine_label_names": [f"c{i}" for i in range(100)]})
    return batch


@pytest.mark.skipif(not CIFAR10.is_dir(), reason="../shared/data/cifar10 is not beside the project")
def test_real_partial_cifar10_copy_loads_without_md5_checks():
    splits, names = load_cifar(CIFAR10, "cifar10", ["data_batch_1"])
    assert splits["train"]["images"].shape == (10000, 3, 32, 32)
    assert splits["test"]["images"].dtype == np.uint8 and len(splits["test"]["labels"]) == 10000
    assert names[0] == "airplane" and set(np.unique(splits["train"]["labels"])) == set(range(10))


@pytest.mark.skipif(not CIFAR10.is_dir(), reason="../shared/data/cifar10 is not beside the project")
def test_missing_batch_of_a_partial_copy_is_named():
    with pytest.raises(IrbenchError, match="data_batch_2: file not found .*'train_files' key"):
        load_cifar(CIFAR10, "cifar10")


def test_cifar100_layout_and_prepared_file(tmp_path):
    batch = _fake_cifar100(tmp_path / "c100")
    splits, names = load_cifar(tmp_path / "c100", "cifar100")
    np.testing.assert_array_equal(splits["train"]["images"].reshape(20, -1), batch["data"])
    assert len(names) == 100
    meta = prepare_dataset({"kind": "cifar100", "root": str(tmp_path / "c100")}, tmp_path / "c100.pt")
    assert meta["n_classes"] == 100 and (tmp_path / "c100.pt").exists()


def test_truncated_and_malformed_files_are_named(tmp_path):
    _fake_cifar100(tmp_path / "c100")
    blob = (tmp_path / "c100" / "train").read_bytes()
    (tmp_path / "c100" / "train").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(IrbenchError, match=r"c100/train: cannot be read"):
        load_cifar(tmp_path / "c100", "cifar100")
    _write(tmp_path / "c100" / "train", {"data": np.zeros((3, 10), np.uint8), "fine_labels": [0, 1, 2]})
    with pytest.raises(IrbenchError, match=r"c100/train: expected 'data' uint8 of shape \(N, 3072\)"):
        load_cifar(tmp_path / "c100", "cifar100")


def test_missing_dataset_folder_is_named_before_any_job(tmp_path):
    datasets = {"c10": {"kind": "cifar10", "root": str(tmp_path / "nowhere")}}
    with pytest.raises(IrbenchError, match="nowhere: dataset folder not found"):
        check_datasets(datasets, ["c10"])
    check_datasets(datasets, [])  # unused datasets are not checked


def test_truncated_or_missing_batches_stop_the_run_before_any_job(tmp_path):
    """The check before any job reads the batches as prepare_dataset would: a truncated or missing one is
    named in one line with its `datasets` entry, not found inside the prepare job."""
    root = tmp_path / "c100"
    _fake_cifar100(root)
    datasets = {"mine": {"kind": "cifar100", "root": str(root)}}
    check_datasets(datasets, ["mine"])  # whole: passes
    blob = (root / "train").read_bytes()
    (root / "train").write_bytes(blob[: len(blob) // 3])
    with pytest.raises(
        IrbenchError, match=r"c100/train: cannot be read as a CIFAR pickle .*\(datasets\.mine\)$"
    ):
        check_datasets(datasets, ["mine"])
    (root / "train").unlink()
    with pytest.raises(IrbenchError, match=r"c100/train: file not found .*train_files"):
        check_datasets(datasets, ["mine"])
