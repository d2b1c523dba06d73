"""The `soundtracks` dataset kind: Soundtracks clips paired with their Mid-level annotations, or with all
Mid-level snippets added to the training split (emotions unknown)."""

import numpy as np
import pytest
import soundfile as sf
import torch

from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
from irbench.data.tensors import load_split
from irbench.datasets import check_datasets, prepare_dataset
from irbench.errors import IrbenchError
from irbench.models.vgg import MERNet
from irbench.objectives.mer import masked_mse, mer_loss

N_CLIPS, N_OTHER = 20, 6


def _tone(path, freq):
    t = np.arange(22050) / 22050
    sf.write(path, 0.2 * np.sin(2 * np.pi * freq * t), 22050)


@pytest.fixture
def layout(tmp_path):
    """20 Soundtracks clips (with ratings), and a Mid-level set whose Source 'soundtracks' snippets point
    at them through 'ID at file source' (in shuffled order), plus 6 snippets from other sources."""
    st, ml = tmp_path / "st", tmp_path / "ml"
    st.mkdir()
    (ml / "audio").mkdir(parents=True)
    rows = ["\ufeffnumber," + ",".join(EMOTIONS) + ",TARGET"]
    for i in range(1, N_CLIPS + 1):
        _tone(st / f"{i:03d}.wav", 100 * i)
        rows.append(f"{i}," + ",".join(f"{1 + 0.25 * i + 0.1 * k:.2f}" for k in range(8)) + ",x")
    (st / "mean_ratings_set1.csv").write_text("\r\n".join(rows), encoding="utf-8")
    meta, ann = ["song id;Source;ID at file source"], ["song_id," + ",".join(MID_LEVEL)]
    numbers = list(np.random.default_rng(0).permutation(np.arange(1, N_CLIPS + 1)))
    for sid in range(N_CLIPS + N_OTHER):
        if sid < N_CLIPS:
            meta.append(f"{sid};soundtracks;{numbers[sid]}")
        else:
            meta.append(f"{sid};jamendo;x{sid}")
            _tone(ml / "audio" / f"{sid}.wav", 50 + 40 * sid)
        ann.append(f"{sid}," + ",".join(str(1 + (sid + k) % 10) for k in range(7)))
    (ml / "metadata.csv").write_text("\n".join(meta))
    (ml / "annotations.csv").write_text("\n".join(ann))
    spec = {
        "kind": "soundtracks",
        "root": str(st),
        "midlevel_root": str(ml),
        "midlevel_annotations": "annotations.csv",
        "midlevel_targets": "soundtracks",
        "n_frames": 16,
        "seed": 3,
    }
    return spec, numbers


def _all_labels(path):
    return {s: load_split(path, s).y.numpy() for s in ("train", "val", "test")}


def test_clips_are_paired_with_their_own_midlevel_ratings(layout, tmp_path):
    spec, numbers = layout
    meta = prepare_dataset(spec, tmp_path / "d.pt")
    assert meta["task"] == "regression" and meta["n_midlevel_only"] == 0
    labels = _all_labels(tmp_path / "d.pt")
    assert [len(v) for v in labels.values()] == [16, 2, 2]
    everything = np.concatenate(list(labels.values()))
    assert not np.isnan(everything).any()
    # clip number n carries the mid-level row of the snippet whose 'ID at file source' is n
    for row in everything:
        n = round((row[0] * 10 - 1) / 0.25)  # the clip number, from its valence
        sid = numbers.index(n)
        np.testing.assert_allclose(row[8:] * 10, [1 + (sid + k) % 10 for k in range(7)], rtol=1e-6)


def test_all_midlevel_snippets_join_the_training_split_without_emotions(layout, tmp_path):
    spec, _ = layout
    meta = prepare_dataset({**spec, "midlevel_targets": "all"}, tmp_path / "d.pt", workers=2)
    assert meta["n_midlevel_only"] == N_OTHER
    labels = _all_labels(tmp_path / "d.pt")
    assert len(labels["train"]) == 16 + N_OTHER and len(labels["test"]) == 2
    unrated = np.isnan(labels["train"][:, :8]).all(1)
    assert unrated.sum() == N_OTHER and not np.isnan(labels["train"][:, 8:]).any()
    assert not np.isnan(labels["val"]).any() and not np.isnan(labels["test"]).any()


def test_clip_without_midlevel_annotation_and_missing_folder_are_named(layout, tmp_path):
    spec, numbers = layout
    ml = tmp_path / "ml"
    lines = (ml / "metadata.csv").read_text().splitlines()
    lines = [ln for ln in lines if not ln.endswith(f";soundtracks;{numbers[0]}")]
    (ml / "metadata.csv").write_text("\n".join(lines))
    (ml / "annotations.csv").write_text(
        "\n".join(ln for ln in (ml / "annotations.csv").read_text().splitlines() if not ln.startswith("0,"))
    )
    with pytest.raises(
        IrbenchError, match=rf"Soundtracks clip '{numbers[0]:03d}' has no mid-level annotation"
    ):
        prepare_dataset(spec, tmp_path / "d.pt")
    assert not (tmp_path / "d.pt").exists()
    with pytest.raises(IrbenchError, match=r"nowhere: dataset folder not found \(datasets.st.midlevel_root"):
        check_datasets({"st": {**spec, "midlevel_root": "nowhere"}}, ["st"])
    (tmp_path / "afile").write_text("")
    with pytest.raises(IrbenchError, match=r"afile: is a file, not a folder \(datasets.st.midlevel_root"):
        check_datasets({"st": {**spec, "midlevel_root": str(tmp_path / "afile")}}, ["st"])


def test_unknown_targets_are_left_out_of_the_loss():
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    target = torch.tensor([[0.0, float("nan")], [float("nan"), float("nan")]])
    loss = masked_mse(pred, target)
    assert loss.item() == pytest.approx(1.0)
    loss.backward()
    assert pred.grad[1].abs().sum() == 0
    full = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert masked_mse(pred, full).item() == pytest.approx(torch.nn.functional.mse_loss(pred, full).item())
    net = MERNet(head="bottleneck", width=0.125)
    y = torch.rand(4, 15)
    y[:2, :8] = float("nan")  # two Mid-level-only snippets
    loss, _ = mer_loss(net, torch.randn(4, 1, 32, 149), y, mid_weight=0.5)
    assert torch.isfinite(loss)


def test_split_is_the_reference_codes_split_of_soundtracks():
    """random_split(range(360), [288, 36, 36], seed 42): the same clips in each part as the reference's
    published split (clip number = index + 1); standardisation uses the training clips only."""
    import json

    from irbench.data.mer_splits import mer_splits, reference_split

    from .conftest import SHARED_DATA

    path = SHARED_DATA / "reference/mer_reference_split.json"
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    ref = json.loads(path.read_text())
    train, val, test = reference_split(360, 42)
    assert (sorted(train + 1), sorted(val + 1), sorted(test + 1)) == (ref["train"], ref["valid"], ref["test"])
    spec = np.zeros((360, 4, 3), dtype=np.float32)
    spec[:, :, 0] = 1.0  # each training clip: mean 1/3, std > 0
    spec[test] = 100.0  # test clips far off: they must not move the statistics
    splits, stats = mer_splits(
        spec, np.ones((360, 8)), np.ones((360, 7)), seed=42, extras={"ids": np.arange(1, 361)}
    )
    assert sorted(splits["test"]["ids"]) == ref["test"] and stats["mean"] == pytest.approx(1 / 3)
