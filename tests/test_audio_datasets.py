import shutil

import numpy as np
import pytest
import soundfile as sf

from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
from irbench.datasets.soundtracks import load_midlevel, load_soundtracks
from irbench.errors import IrbenchError

from .conftest import SHARED_DATA

RATINGS = SHARED_DATA / "soundtracks" / "mean_ratings_set1.csv"


def _tone(path):
    sf.write(path, 0.1 * np.sin(np.arange(2205) / 5.0), 22050)


@pytest.fixture
def soundtracks(tmp_path):
    if not RATINGS.is_file():
        pytest.skip("../shared/data/soundtracks is absent")
    root = tmp_path / "st"
    root.mkdir()
    shutil.copy(RATINGS, root / "mean_ratings_set1.csv")
    for i in range(1, 361):
        _tone(root / f"{i:03d}.wav")
    return root


def test_real_soundtracks_ratings_load_with_their_clips(soundtracks):
    d = load_soundtracks(soundtracks)
    assert len(d["ids"]) == 360 and d["ids"][0] == "001" and d["audio"][0].name == "001.wav"
    assert d["emotions"].shape == (360, 8)
    assert d["emotions"].min() >= 1 and d["emotions"].max() <= 9
    np.testing.assert_allclose(d["emotions"][0], [4.83, 6.83, 3.17, 1.0, 1.0, 7.33, 1.0, 1.0])


def test_header_case_and_extra_columns_are_tolerated(soundtracks):
    path = soundtracks / "mean_ratings_set1.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[0] = lines[0].upper() + ",EXTRA"
    path.write_text("\n".join(ln + ",x" if i else ln for i, ln in enumerate(lines)), encoding="utf-8-sig")
    assert len(load_soundtracks(soundtracks)["ids"]) == 360


def test_clip_without_rating_and_rating_without_clip_are_named(soundtracks):
    _tone(soundtracks / "361.wav")
    with pytest.raises(IrbenchError, match=r"361.wav: clip has no rating"):
        load_soundtracks(soundtracks)
    (soundtracks / "361.wav").unlink()
    (soundtracks / "017.wav").unlink()
    with pytest.raises(IrbenchError, match=r"rating for clip '017' has no audio file"):
        load_soundtracks(soundtracks)


def test_ratings_csv_missing_a_column_is_named(soundtracks):
    path = soundtracks / "mean_ratings_set1.csv"
    text = path.read_text(encoding="utf-8-sig").replace("tender,", "")
    path.write_text(text, encoding="utf-8-sig")
    with pytest.raises(IrbenchError, match=r"mean_ratings_set1.csv: missing column\(s\) tender"):
        load_soundtracks(soundtracks)


def _midlevel(root, names=("melody", *MID_LEVEL[1:])):
    (root / "audio").mkdir(parents=True)
    meta = ["song id;Source;other"]
    ann = ["song_id," + ",".join(names)]
    for i in range(6):
        source = "Soundtracks set" if i < 2 else "Jamendo"
        meta.append(f"{i};{source};x")
        ann.append(f"{i}," + ",".join(str(1 + (i + k) % 9) for k in range(7)))
        _tone(root / "audio" / f"{i}.wav")
    (root / "metadata.csv").write_text("\n".join(meta))
    (root / "mean_ratings.csv").write_text("\n".join(ann))


def test_midlevel_layout_renames_columns_and_restricts_to_soundtracks(tmp_path):
    _midlevel(tmp_path / "ml")
    full = load_midlevel(tmp_path / "ml")
    assert full["ids"] == [str(i) for i in range(6)] and full["mid_level"].shape == (6, 7)
    assert full["mid_level"][1, 0] == 2  # 'melody' read as melodiousness
    sub = load_midlevel(tmp_path / "ml", restrict_to_soundtracks=True)
    assert sub["ids"] == ["0", "1"] and all("Soundtracks" in s for s in sub["source"])
    assert EMOTIONS[0] == "valence"


def test_midlevel_missing_rating_column_or_audio_is_named(tmp_path):
    _midlevel(tmp_path / "a", names=("melody", *MID_LEVEL[1:6], "something_else"))
    with pytest.raises(IrbenchError, match=r"mean_ratings.csv: missing column\(s\) minorness"):
        load_midlevel(tmp_path / "a")
    _midlevel(tmp_path / "b")
    (tmp_path / "b" / "audio" / "3.wav").unlink()
    with pytest.raises(IrbenchError, match=r"rating for clip '3' has no audio file"):
        load_midlevel(tmp_path / "b")
