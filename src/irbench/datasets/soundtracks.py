"""The Soundtracks dataset kind: Soundtracks Set 1 (8 emotion ratings) paired with the Mid-level Perceptual
Features dataset's 7 ratings, both read in their published layouts, with one-line errors naming file or key.

Soundtracks Set 1: `mean_ratings_set1.csv` (UTF-8 with BOM; `number` and the 8 emotions, plus `TARGET`)
beside audio `001.mp3` ... `360.mp3`. Mid-level Perceptual Features: `metadata.csv` (semicolon-separated,
`song id`, `Source`), an annotations CSV (`song_id` and the 7 ratings) and `audio/<song_id>.mp3`.
Header case and extra columns are tolerated.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from irbench.audio.features import SLICE_FRAMES, extract_features
from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
from irbench.data.mer_splits import mer_splits
from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, Splits, mer_size, register
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


def soundtracks_splits(
    spec: Mapping[str, Any], workers: int = 1
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Splits of Soundtracks Set 1 (emotions) with mid-level targets from the Mid-level dataset.

    `midlevel_targets: soundtracks` pairs each clip with its own mid-level annotation (the reference
    code); `all` adds every other Mid-level snippet to the training split with its ratings and no
    emotions (the paper's text), so the bottleneck learns from all of them."""
    st = load_soundtracks(spec["root"], spec.get("audio_dir"))
    ml_root = Path(spec["midlevel_root"])
    annotations = spec.get("midlevel_annotations", "annotations.csv")
    ml = load_midlevel(ml_root, annotations, with_audio=False)
    mid = soundtracks_midlevel(st, ml, ml_root / annotations)
    emotions, paths = st["emotions"], list(st["audio"])
    n_extra = 0
    if spec["midlevel_targets"] == "all":
        extra = ~is_soundtracks(ml["source"])  # the Soundtracks snippets are the clips themselves
        n_extra = int(extra.sum())
        paths += snippet_audio(ml_root, [ml["ids"][i] for i in np.flatnonzero(extra)], ml_root / annotations)
        emotions = np.concatenate([emotions, np.full((n_extra, emotions.shape[1]), np.nan)])
        mid = np.concatenate([mid, ml["mid_level"][extra]])
    n_frames = spec.get("n_frames", SLICE_FRAMES)
    spectrograms = extract_features(
        paths, seed=spec["seed"], n_frames=n_frames, workers=workers, min_seconds=spec.get("min_seconds", 1.0)
    )
    splits, stats = mer_splits(spectrograms, emotions, mid, seed=spec["seed"], n_train_only=n_extra)
    return splits, {"n_midlevel_only": n_extra, **stats}


# --- the dataset kind: its registration ---


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    splits, stats = soundtracks_splits(spec, workers)
    meta = {"targets": [*EMOTIONS, *MID_LEVEL], "n_emotions": 8, "midlevel_targets": spec["midlevel_targets"]}
    return splits, {**meta, **stats}


KIND = register(
    DatasetKind(
        "soundtracks",
        prepare,
        "Soundtracks Set 1 with Mid-level Perceptual Features targets",
        size=mer_size,
        task="regression",
        folders={
            "root": "Soundtracks Set 1: mean_ratings_set1.csv beside 001.mp3 ... 360.mp3",
            "audio_dir": "the Soundtracks audio files",
            "midlevel_root": "the Mid-level dataset: metadata.csv, the annotations CSV and audio/",
        },
        schema={
            "required": ["root", "midlevel_root", "midlevel_targets", "seed"],
            "properties": {
                "root": {
                    "type": "string",
                    "description": "expected the Soundtracks Set 1 folder (mean_ratings_set1.csv)",
                },
                "audio_dir": {
                    "type": "string",
                    "description": "expected the folder of 001.mp3 ... 360.mp3 (default: root)",
                },
                "midlevel_root": {
                    "type": "string",
                    "description": "expected the Mid-level dataset folder (metadata.csv, audio/)",
                },
                "midlevel_annotations": {
                    "type": "string",
                    "description": "expected the annotations CSV's file name",
                },
                "midlevel_targets": {
                    "enum": ["soundtracks", "all"],
                    "description": "expected soundtracks (the clips' own ratings) or all (every snippet)",
                },
                "n_frames": {"type": "integer", "minimum": 16, "description": "expected an integer >= 16"},
                "min_seconds": {
                    "type": "number",
                    "minimum": 0,
                    "description": "expected the shortest clip accepted, in seconds (default 1)",
                },
                "seed": SEED,
                "paper_reference": PAPER_REFERENCE,
            },
        },
    )
)
