import numpy as np
import pytest
import soundfile as sf

from irbench.audio.decode import load_audio
from irbench.audio.features import extract_features
from irbench.audio.spectrogram import (
    SpectrogramSpec,
    filterbank,
    frames,
    log_filtered_spectrogram,
    log_frequencies,
    madmom_signal,
)
from irbench.audio.synthetic import EMOTION_WEIGHTS, emotion_ratings, synthetic_mer
from irbench.errors import IrbenchError

from .conftest import SHARED_DATA

AUDIO = SHARED_DATA / "audio"
SR = 22050


def test_log_frequencies_are_24_per_octave_around_a4_within_range():
    f = log_frequencies(24, 20, 16000)
    assert f[0] >= 20 and f[-1] <= 16000 and 440.0 in f
    np.testing.assert_allclose(f[1:] / f[:-1], 2 ** (1 / 24))
    assert log_frequencies(24, 20, 16000)[0] < 20 * 2 ** (1 / 24)


def test_filterbank_matches_its_definition():
    fb = filterbank()
    assert fb.shape == (1024, 149)  # the reference code's 149 bands
    np.testing.assert_allclose(fb.sum(axis=0), 1.0, rtol=1e-5)  # unit area
    peaks = fb.argmax(axis=0)
    assert (np.diff(peaks) > 0).all()  # duplicates merged: strictly increasing centres
    # every filter is a triangle: rises to its peak, then falls, zero elsewhere
    for j in range(fb.shape[1]):
        nz = np.nonzero(fb[:, j])[0]
        col = fb[nz[0] : nz[-1] + 1, j]
        k = col.argmax()
        assert (np.diff(col[: k + 1]) >= 0).all() and (np.diff(col[k:]) <= 0).all()
    # centre bins sit at the FFT bins nearest the log-spaced frequencies above the first corner
    bin_hz = SR / 2048
    high = peaks[-20:] * bin_hz
    ratios = high[1:] / high[:-1]
    assert np.all(np.abs(np.log2(ratios) * 24 - 1) < 0.35)


def test_frames_are_placed_and_counted_like_madmom():
    for origin, offset in (("center", 1024), ("future", 0)):
        spec = SpectrogramSpec(origin=origin)
        assert len(frames(np.zeros(10 * SR, np.float32), spec)) == 313
        x = np.zeros(SR, np.float32)
        x[5000] = 1.0
        fr = frames(x, spec)
        i = int(np.floor(5000 / spec.hop))
        ref = int(np.floor(i * spec.hop))
        assert fr[i, offset + (5000 - ref)] == 1.0


REFERENCE = SHARED_DATA / "reference"
RECORDINGS = {"hungarian_dance": "Hungarian_Dance", "vibe_ace": "Vibe_Ace"}


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="../shared/data/reference is absent")
def test_filterbank_and_spectrograms_match_madmoms_own_output():
    """The filterbank to 1e-6, the STFT + filterbank (centred frames, no normalisation) to 1e-3, and the
    reference code's whole processor (16-bit peak normalisation, zero trimming, origin 'future') to 2e-3,
    frame by frame, on two real recordings."""
    np.testing.assert_allclose(
        filterbank(), np.load(REFERENCE / "madmom_logfilterbank_2048_22050.npy"), atol=1e-6
    )
    for name, stem in RECORDINGS.items():
        signal = load_audio(next(AUDIO.glob(f"*{stem}*.ogg")))
        centred = log_filtered_spectrogram(signal, SpectrogramSpec(origin="center", normalise=False))
        theirs = np.load(REFERENCE / f"madmom_centred_unnormalised_{name}.npy")
        assert centred.shape == theirs.shape and np.abs(centred - theirs).max() < 1e-3, name
        ours = log_filtered_spectrogram(madmom_signal(signal), SpectrogramSpec())
        theirs = np.load(REFERENCE / f"madmom_reference_pipeline_{name}.npy")
        assert ours.shape == theirs.shape and np.abs(ours - theirs).max() < 2e-3, name


def test_short_clips_are_filled_by_repeating_their_spectrogram():
    from irbench.audio.features import excerpt

    spec = np.arange(12, dtype=np.float32).reshape(4, 3)
    out = excerpt(spec, 10, np.random.default_rng(0))
    assert out.shape == (10, 3) and np.array_equal(out[4:8], spec) and np.array_equal(out[8:], spec[:2])


def test_a_sine_lights_the_band_around_its_frequency():
    t = np.arange(2 * SR) / SR
    for hz in (220.0, 1000.0, 4000.0):
        s = log_filtered_spectrogram(0.5 * np.sin(2 * np.pi * hz * t).astype(np.float32))
        band = s[10:-10].mean(axis=0).argmax()
        lo, hi = np.nonzero(filterbank()[:, band])[0][[0, -1]] * SR / 2048
        assert lo <= hz <= hi + SR / 2048


@pytest.mark.skipif(not AUDIO.is_dir(), reason="../shared/data/audio is absent")
def test_real_recordings_decode_and_extract_in_parallel_like_serially():
    paths = sorted(AUDIO.glob("*.ogg"))
    sig = load_audio(paths[0])
    assert sig.dtype == np.float32 and sig.ndim == 1 and len(sig) > 40 * SR
    full = log_filtered_spectrogram(sig)
    assert full.shape[1] == 149 and np.isfinite(full).all() and full.std() > 0.05
    serial = extract_features(paths, seed=3, workers=1)
    parallel = extract_features(paths, seed=3, workers=2)
    assert serial.shape == (2, 313, 149)
    np.testing.assert_array_equal(serial, parallel)
    assert not np.array_equal(serial, extract_features(paths, seed=4, workers=1))


def test_any_rate_and_channel_count_become_22khz_mono(tmp_path):
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.3
    sf.write(tmp_path / "a.wav", stereo, 44100)
    sig = load_audio(tmp_path / "a.wav")
    assert abs(len(sig) - SR) <= 2 and sig.ndim == 1


def test_empty_corrupt_silent_and_missing_audio_name_the_file(tmp_path):
    (tmp_path / "empty.mp3").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(200)))
    sf.write(tmp_path / "silent.wav", np.zeros(SR), SR)
    sf.write(tmp_path / "short.wav", np.sin(np.arange(int(0.29 * SR)) / 5.0) * 0.3, SR)  # a truncated clip
    (tmp_path / "notes.mp3").write_text("these are not the audio files you are looking for\n" * 20)
    for name, why in (
        ("empty.mp3", "empty"),
        ("corrupt.wav", "not a recognised audio format"),
        ("notes.mp3", "not a recognised audio format"),
        ("short.wav", r"0\.29 s long, shorter than the minimum 1 s"),
        ("silent.wav", "silent"),
        ("missing.ogg", "not found"),
    ):
        with pytest.raises(IrbenchError, match=rf"{name}: .*{why}"):
            load_audio(tmp_path / name)


def test_synthetic_clips_are_seeded_and_ratings_follow_the_known_function():
    a = synthetic_mer(3, seed=1, noise=0.0, n_frames=100)
    b = synthetic_mer(3, seed=1, noise=0.0, n_frames=100, workers=2)
    assert a["spectrograms"].shape == (3, 100, 149)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    expected = np.clip(5 + 4 * (a["attributes"] - 0.5) @ EMOTION_WEIGHTS.T, 1, 9)
    np.testing.assert_allclose(a["emotions"], expected)
    assert ((a["mid_level"] >= 1) & (a["mid_level"] <= 10)).all()
    noisy = emotion_ratings(a["attributes"], 0.5, np.random.default_rng(0))
    assert ((noisy >= 1) & (noisy <= 9)).all() and not np.allclose(noisy, expected)
