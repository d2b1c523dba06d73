"""Soundtracks Set 1 (8 emotion ratings) paired with the Mid-level Perceptual Features dataset's 7 ratings,
in their published layouts (irbench.data.mer.soundtracks_splits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irbench.datasets import PAPER_REFERENCE, SEED, DatasetKind, Splits, mer_size, register


def prepare(spec: Mapping[str, Any], workers: int = 1) -> tuple[Splits, dict[str, Any]]:
    from irbench.audio.synthetic import EMOTIONS, MID_LEVEL
    from irbench.data.mer import soundtracks_splits

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
