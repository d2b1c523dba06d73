"""Synthetic music clips whose seven mid-level attributes are set by the generator, and whose eight emotion
ratings are a known noisy linear function of them: the MER study's quick default, where the bottleneck's
interpretability can be checked against the truth.

Each attribute in [0, 1] steers one property of a two-voice melody of harmonic tones over a drone:
melodiousness (small melodic steps vs leaps), articulation (staccato vs legato), rhythm_complexity
(subdivided vs even notes), rhythm_stability (onset jitter), dissonance (clashing second voice),
tonal_stability (in-key vs chromatic notes) and minorness (minor vs major scale).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from irbench.audio.features import excerpt
from irbench.audio.spectrogram import SpectrogramSpec, log_filtered_spectrogram

MID_LEVEL = (
    "melodiousness",
    "articulation",
    "rhythm_complexity",
    "rhythm_stability",
    "dissonance",
    "tonal_stability",
    "minorness",
)
EMOTIONS = ("valence", "energy", "tension", "anger", "fear", "happy", "sad", "tender")
# Emotion = 5 + 4 * EMOTION_WEIGHTS @ (attributes - 0.5) + noise, clipped to the 1-9 rating scale.
EMOTION_WEIGHTS = np.array(
    [
        [0.6, 0.2, 0.0, 0.2, -0.6, 0.3, -0.8],  # valence
        [0.0, 0.8, 0.6, 0.2, 0.2, 0.0, 0.0],  # energy
        [-0.4, 0.3, 0.4, -0.3, 0.8, -0.5, 0.3],  # tension
        [-0.3, 0.6, 0.3, 0.0, 0.7, -0.3, 0.2],  # anger
        [-0.3, 0.0, 0.3, -0.5, 0.6, -0.6, 0.5],  # fear
        [0.5, 0.4, 0.2, 0.3, -0.5, 0.3, -0.8],  # happy
        [0.3, -0.6, -0.4, 0.1, -0.2, 0.1, 0.8],  # sad
        [0.8, -0.6, -0.3, 0.3, -0.6, 0.4, 0.0],  # tender
    ]
)
MAJOR, MINOR = np.array([0, 2, 4, 5, 7, 9, 11]), np.array([0, 2, 3, 5, 7, 8, 10])


def emotion_ratings(attributes: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """(N, 8) ratings on the 1-9 scale from (N, 7) attributes in [0, 1]."""
    clean = 5.0 + 4.0 * (attributes - 0.5) @ EMOTION_WEIGHTS.T
    return np.clip(clean + noise * rng.standard_normal(clean.shape), 1.0, 9.0)


def _tone(freq: float, n: int, sr: int, attack: int) -> np.ndarray:
    """A harmonic tone (4 partials, 1/k amplitudes) with a linear attack and exponential decay."""
    t = np.arange(n) / sr
    wave = sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, 5))
    env = np.minimum(1.0, np.arange(n) / max(attack, 1)) * np.exp(-3.0 * t / max(t[-1], 1e-3))
    env[-min(n, 64) :] *= np.linspace(1, 0, min(n, 64))  # no click at the note's end
    return wave * env


def synthesise(attributes: Sequence[float], seed: int, seconds: float = 11.0, sr: int = 22050) -> np.ndarray:
    """One clip (mono float32 in [-1, 1]) rendering the seven attributes (MID_LEVEL order)."""
    mel, art, rcomp, rstab, diss, tonal, minor = (float(a) for a in attributes)
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * sr))
    scale = MINOR if rng.random() < minor else MAJOR
    root = 48 + int(rng.integers(0, 12))
    step = 60.0 / rng.uniform(90, 150) / 2  # eighth notes
    t, degree = 0.0, 7
    while t < seconds - 0.05:
        dur = step / 2 if rng.random() < rcomp * 0.7 else step * (2 if rng.random() < 0.2 else 1)
        leap = int(rng.integers(1, 3)) if rng.random() < mel else int(rng.integers(3, 8))
        degree = int(np.clip(degree + leap * rng.choice([-1, 1]), 0, 14))
        pitch = root + 12 * (degree // 7) + scale[degree % 7]
        if rng.random() > tonal:  # out of key
            pitch += int(rng.choice([-1, 1]))
        onset = t + rng.normal(0, (1 - rstab) * 0.25 * step)
        start = int(max(onset, 0.0) * sr)
        if start >= len(out) - 256:  # jitter pushed the last onset past the clip's end
            break
        n = max(int(dur * (0.95 - 0.75 * art) * sr), 256)
        attack = int((0.03 - 0.025 * art) * sr)
        second = pitch + (int(rng.choice([1, 6, 11])) if rng.random() < diss else int(rng.choice([4, 7, 9])))
        for p, gain in ((pitch, 0.5), (second, 0.3)):
            note = gain * _tone(440.0 * 2 ** ((p - 69) / 12), n, sr, attack)
            end = min(start + n, len(out))
            out[start:end] += note[: end - start]
        t += dur
    drone = 0.15 * np.sin(2 * np.pi * 440.0 * 2 ** ((root - 12 - 69) / 12) * np.arange(len(out)) / sr)
    out += drone
    return (0.9 * out / np.abs(out).max()).astype(np.float32)


def _clip(attributes: np.ndarray, seed: int, n_frames: int, spec: dict) -> np.ndarray:
    s = SpectrogramSpec(**spec)
    full = log_filtered_spectrogram(synthesise(attributes, seed, sr=s.sample_rate), s)
    return excerpt(full, n_frames, np.random.default_rng([seed, 1]))


def synthetic_mer(
    n_clips: int, *, seed: int, noise: float = 0.3, n_frames: int = 313, workers: int = 1
) -> dict[str, np.ndarray]:
    """Spectrogram excerpts (N, n_frames, 149), mid-level targets (N, 7, on the 1-10 scale of the
    Mid-level dataset), emotion ratings (N, 8, 1-9) and the true attributes (N, 7, in [0, 1])."""
    rng = np.random.default_rng(seed)
    attributes = rng.uniform(0, 1, (n_clips, len(MID_LEVEL)))
    seeds = rng.integers(0, 2**31, n_clips)
    spec = SpectrogramSpec().__dict__
    args = [(attributes[i], int(seeds[i]), n_frames, spec) for i in range(n_clips)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            specs = list(pool.map(_clip, *zip(*args, strict=True), chunksize=4))
    else:
        specs = [_clip(*a) for a in args]
    return {
        "spectrograms": np.stack(specs),
        "mid_level": 1.0 + 9.0 * attributes,
        "emotions": emotion_ratings(attributes, noise, rng),
        "attributes": attributes,
    }
