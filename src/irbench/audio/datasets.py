"""The MER study's real datasets in their published layouts, with one-line errors naming file or key.

Soundtracks Set 1: `mean_ratings_set1.csv` (UTF-8 with BOM; `number` and the 8 emotions, plus `TARGET`)
beside audio `001.mp3` ... `360.mp3`. Mid-level Perceptual Features: `metadata.csv` (semicolon-separated,
`song id`, `Source`), an annotations CSV (`song_id` and the 7 ratings) and `audio/<song_id>.mp3`.
Header case and extra columns are tolerated.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
from irbench.errors import IrbenchError

AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".flac")
# The Mid-level dataset's own column names, mapped to irbench's (the names the paper uses).
MID_LEVEL_ALIASES = {
    "melody": "melodiousness",
    "melodiousness": "melodiousness",
    "articulation": "articulation",
    "rhythm_complexity": "rhythm_complexity",
    "r_complexity": "rhythm_complexity",
    "rhythm_stability": "rhythm_stability",
    "r_stability": "rhythm_stability",
    "dissonance": "dissonance",
    "tonal_stability": "tonal_stability",
    "minorness": "minorness",
    "mode": "minorness",
}


def read_table(path: Path, required: tuple[str, ...], sep: str = ",") -> pd.DataFrame:
    """A CSV with lower-cased, stripped headers (BOM removed) that must hold the `required` columns."""
    if not path.is_file():
        raise IrbenchError(f"{path}: file not found")
    try:
        df = pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str)
    except Exception as exc:
        raise IrbenchError(f"{path}: not a readable CSV ({str(exc).splitlines()[0]})") from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise IrbenchError(f"{path}: missing column(s) {', '.join(missing)} (found: {', '.join(df.columns)})")
    return df


def _numeric(df: pd.DataFrame, columns: tuple[str, ...], path: Path) -> pd.DataFrame:
    out = df[list(columns)].apply(pd.to_numeric, errors="coerce")
    bad = out.isna().any(axis=1)
    if bad.any():
        raise IrbenchError(f"{path}: row {int(bad.idxmax()) + 2} has a missing or non-numeric rating")
    return out


def _audio_files(folder: Path) -> dict[str, Path]:
    """{stem: path} of the audio files in a folder."""
    if not folder.is_dir():
        raise IrbenchError(f"{folder}: audio folder not found")
    return {p.stem: p for p in sorted(folder.iterdir()) if p.suffix.lower() in AUDIO_EXTENSIONS}


def match_clips(ids: list[str], audio: dict[str, Path], ratings_path: Path, folder: Path) -> list[Path]:
    """The audio file of every rated id; an error naming the first rated id without audio or audio
    file without a rating."""
    unrated = sorted(set(audio) - set(ids))
    if unrated:
        raise IrbenchError(f"{audio[unrated[0]]}: clip has no rating in {ratings_path}")
    missing = [i for i in ids if i not in audio]
    if missing:
        raise IrbenchError(f"{ratings_path}: rating for clip '{missing[0]}' has no audio file in {folder}")
    return [audio[i] for i in ids]


def load_soundtracks(root: str | os.PathLike, audio_dir: str | os.PathLike | None = None) -> dict:
    """{'ids', 'audio' (paths), 'emotions' (N, 8) on the 1-9 scale} of Soundtracks Set 1."""
    root = Path(root)
    path = root / "mean_ratings_set1.csv"
    df = read_table(path, ("number", *EMOTIONS))
    ids = [f"{int(n):03d}" if str(n).strip().isdigit() else str(n).strip() for n in df["number"]]
    folder = Path(audio_dir) if audio_dir else root
    files = match_clips(ids, _audio_files(folder), path, folder)
    return {"ids": ids, "audio": files, "emotions": _numeric(df, EMOTIONS, path).to_numpy()}


def load_midlevel(
    root: str | os.PathLike,
    annotations: str = "mean_ratings.csv",
    restrict_to_soundtracks: bool = False,
    with_audio: bool = True,
) -> dict:
    """{'ids', 'audio', 'mid_level' (N, 7), 'source', 'id_at_source'} of the Mid-level Perceptual Features
    dataset.

    With `restrict_to_soundtracks`, only the snippets whose metadata `Source` names the Soundtracks set
    (what the reference code trains the bottleneck on) are kept; otherwise all of them (the paper's text).
    `id_at_source` is the metadata's `ID at file source` (the Soundtracks clip number), '' where absent;
    without `with_audio` the audio folder is not read ('audio' is empty).
    """
    root = Path(root)
    meta = read_table(root / "metadata.csv", ("song id", "source"), sep=";")
    ann_path = root / annotations
    ann = read_table(ann_path, ("song_id",))
    ann = ann.rename(columns={c: MID_LEVEL_ALIASES[c] for c in ann.columns if c in MID_LEVEL_ALIASES})
    missing = [c for c in MID_LEVEL if c not in ann.columns]
    if missing:
        raise IrbenchError(
            f"{ann_path}: missing column(s) {', '.join(missing)} (found: {', '.join(ann.columns)})"
        )
    meta = meta.assign(song_id=meta["song id"].str.strip()).set_index("song_id")
    ann = ann.assign(song_id=ann["song_id"].str.strip())
    unknown = [i for i in ann["song_id"] if i not in meta.index]
    if unknown:
        raise IrbenchError(f"{ann_path}: song_id '{unknown[0]}' is not in {root / 'metadata.csv'}")
    sources = meta.loc[ann["song_id"], "source"].fillna("").to_numpy()
    at_source = (
        meta["id at file source"] if "id at file source" in meta.columns else pd.Series("", meta.index)
    )
    at_source = at_source.loc[ann["song_id"]].fillna("").str.strip().to_numpy()
    if restrict_to_soundtracks:
        keep = is_soundtracks(sources)
        ann, sources, at_source = ann[keep], sources[keep], at_source[keep]
    ids = list(ann["song_id"])
    files = snippet_audio(root, ids, ann_path) if with_audio else []
    return {
        "ids": ids,
        "audio": files,
        "mid_level": _numeric(ann, MID_LEVEL, ann_path).to_numpy(),
        "source": list(sources),
        "id_at_source": list(at_source),
    }


def snippet_audio(root: Path, ids: list[str], ann_path: Path) -> list[Path]:
    """The files `audio/<song_id>.*` of the given Mid-level snippets (the folder may hold others)."""
    wanted = set(ids)
    audio = {k: v for k, v in _audio_files(root / "audio").items() if k in wanted}
    return match_clips(ids, audio, ann_path, root / "audio")


def is_soundtracks(sources) -> np.ndarray:
    """Which metadata `Source` values name the Soundtracks set."""
    return pd.Series(list(sources), dtype=str).str.contains("soundtrack", case=False).to_numpy()


def soundtracks_midlevel(soundtracks: dict, midlevel: dict, midlevel_path: Path) -> np.ndarray:
    """(N, 7) mid-level ratings of the Soundtracks clips, in their order, paired through the Mid-level
    metadata's `ID at file source` (as the reference code pairs them); a clip without one is named."""
    st = is_soundtracks(midlevel["source"])
    by_number = {}
    for i in np.flatnonzero(st):
        key = midlevel["id_at_source"][i]
        if key.isdigit():
            by_number[int(key)] = midlevel["mid_level"][i]
    if not by_number:
        raise IrbenchError(
            f"{midlevel_path}: no Soundtracks snippet has an 'ID at file source' (expected the column "
            "'ID at file source' holding the Soundtracks clip number for Source 'soundtracks')"
        )
    rows = []
    for clip in soundtracks["ids"]:
        number = int(clip) if str(clip).isdigit() else None
        if number not in by_number:
            raise IrbenchError(f"{midlevel_path}: Soundtracks clip '{clip}' has no mid-level annotation")
        rows.append(by_number[number])
    return np.stack(rows)
