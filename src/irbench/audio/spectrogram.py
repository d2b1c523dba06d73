"""The log-filtered spectrogram of the MER reference code, as madmom computes it, in NumPy.

The reference's audio processor: `Signal(norm=True)` (peak normalisation of ffmpeg's 16-bit samples),
`np.trim_zeros`, then madmom's `LogarithmicFilteredSpectrogram(num_bands=24, fmin=20, fmax=16000)` on
22.05 kHz audio with frames of 2048 samples at 31.3 frames/s, `origin='future'`: frame i starts at sample
int(i * hop) (zero-padded past the end; `origin='center'` centres it there instead), a Hann window, the
magnitude of the first 1024 FFT bins, a bank of triangular filters whose corners are log-spaced at 24 per
octave around A4 = 440 Hz (snapped to FFT bins, filters that would duplicate one another merged, each
filter normalised to unit area), then log10(1 + x). That gives 149 bands. Checked against madmom's own
output on two real recordings (tests/test_audio.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

A4 = 440.0


@dataclass(frozen=True)
class SpectrogramSpec:
    """Settings of the log-filtered spectrogram (the reference code's by default)."""

    sample_rate: int = 22050
    frame_size: int = 2048
    fps: float = 31.3
    bands_per_octave: int = 24
    fmin: float = 20.0
    fmax: float = 16000.0
    origin: str = "future"  # frame i starts at int(i * hop) (the reference); "center": centred there
    normalise: bool = True  # peak-normalise and trim zeros as madmom does on 16-bit samples (files only)

    @property
    def hop(self) -> float:
        return self.sample_rate / self.fps


DEFAULT_SPEC = SpectrogramSpec()


def log_frequencies(bands_per_octave: int, fmin: float, fmax: float, fref: float = A4) -> np.ndarray:
    """Frequencies fref * 2^(k / bands_per_octave) for every integer k with fmin <= f <= fmax."""
    k_lo = np.floor(np.log2(fmin / fref) * bands_per_octave)
    k_hi = np.ceil(np.log2(fmax / fref) * bands_per_octave)
    freqs = fref * 2.0 ** (np.arange(k_lo, k_hi + 1) / bands_per_octave)
    return freqs[(freqs >= fmin) & (freqs <= fmax)]


def snap_to_bins(freqs: np.ndarray, bin_freqs: np.ndarray) -> np.ndarray:
    """The index of the FFT bin nearest to each frequency, duplicates removed (sorted)."""
    idx = np.clip(np.searchsorted(bin_freqs, freqs), 1, len(bin_freqs) - 1)
    left_closer = (freqs - bin_freqs[idx - 1]) < (bin_freqs[idx] - freqs)
    return np.unique(idx - left_closer)


def triangular_filterbank(bins: np.ndarray, n_fft_bins: int) -> np.ndarray:
    """(n_fft_bins, len(bins) - 2) triangular filters on consecutive corner triples, unit area each.

    A filter too narrow to rise and fall (stop - start < 2) becomes a single bin at its start.
    """
    fb = np.zeros((n_fft_bins, len(bins) - 2), dtype=np.float64)
    for j, (start, centre, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:], strict=True)):
        if stop - start < 2:
            fb[start, j] = 1.0
            continue
        rise = np.arange(start, centre)
        fb[rise, j] = (rise - start) / (centre - start)
        fall = np.arange(centre, stop)
        fb[fall, j] = 1.0 - (fall - centre) / (stop - centre)
        fb[:, j] /= fb[:, j].sum()
    return fb


@lru_cache(maxsize=8)
def filterbank(spec: SpectrogramSpec = DEFAULT_SPEC) -> np.ndarray:
    """The log-spaced triangular filterbank for `spec`, shape (frame_size / 2, n_bands); built once per
    spec (read-only)."""
    n_bins = spec.frame_size // 2
    bin_freqs = np.fft.fftfreq(spec.frame_size, 1.0 / spec.sample_rate)[:n_bins]
    corners = snap_to_bins(log_frequencies(spec.bands_per_octave, spec.fmin, spec.fmax), bin_freqs)
    fb = triangular_filterbank(corners, n_bins).astype(np.float32)
    fb.flags.writeable = False
    return fb


def frames(signal: np.ndarray, spec: SpectrogramSpec = DEFAULT_SPEC) -> np.ndarray:
    """(n_frames, frame_size) frames at reference samples int(i * hop), starting there (`future`) or
    centred there (`center`), zero-padded outside the signal; n_frames = ceil(len(signal) / hop)."""
    if spec.origin not in ("future", "center"):
        raise ValueError(f"origin must be future or center, got {spec.origin!r}")
    n = int(np.ceil(len(signal) / spec.hop))
    left = spec.frame_size // 2 if spec.origin == "center" else 0
    padded = np.concatenate([np.zeros(left, signal.dtype), signal, np.zeros(spec.frame_size, signal.dtype)])
    starts = np.floor(np.arange(n) * spec.hop).astype(np.int64)
    return padded[starts[:, None] + np.arange(spec.frame_size)[None, :]]


def madmom_signal(signal: np.ndarray) -> np.ndarray:
    """The signal as the reference's `Signal(norm=True)` and `np.trim_zeros` leave it: madmom gets ffmpeg's
    16-bit samples, scales their peak to 32767 (truncating), drops leading and trailing zero samples, and
    its STFT divides by 32767; float32 in [-1, 1]."""
    x16 = np.clip(np.round(signal.astype(np.float64) * 32768), -32768, 32767)
    peak = np.abs(x16).max()
    if peak == 0:
        return np.zeros(0, np.float32)
    y = np.trunc(x16 / (peak / 32767))
    nz = np.flatnonzero(y)
    return (y[nz[0] : nz[-1] + 1] / 32767).astype(np.float32)


def log_filtered_spectrogram(signal: np.ndarray, spec: SpectrogramSpec = DEFAULT_SPEC) -> np.ndarray:
    """(n_frames, n_bands) float32 log10(1 + filtered magnitude spectrogram) of a mono float signal."""
    window = np.hanning(spec.frame_size).astype(np.float32)
    fr = frames(np.asarray(signal, dtype=np.float32), spec) * window
    mag = np.abs(np.fft.rfft(fr, axis=1))[:, : spec.frame_size // 2]
    return np.log10(1.0 + mag @ filterbank(spec)).astype(np.float32)
