"""Per-frame spectrum bars from the hook's audio, the server twin of the client's Meyda analysis.

Everything is computed up front in one vectorised pass (a 30 s hook is 900 FFTs of 2048 samples,
about 30 ms), so the frame loop only looks heights up.
"""

from __future__ import annotations

import math

import numpy as np

BAR_COUNT = 48
LOWEST_HZ = 40.0
HIGHEST_HZ = 16_000.0
# 2048 samples at 44.1/48 kHz (~45 ms): fine enough in frequency for the low bands, short enough in time
# to follow a drum hit. Other rates get the power of two nearest the same span.
WINDOW_SEC = 2048 / 46_000
# Band power in dB relative to a full-scale sine, mapped linearly onto 0..1. Mastered music spreads
# about -30 dB into each of 48 log-spaced bands, which lands bars around two thirds of their height.
FLOOR_DB = -70.0
CEILING_DB = -10.0
# Bars rise on the frame that has the sound (a late rise looks out of sync) and fall with this time
# constant, which is what keeps them from flickering.
RELEASE_TIME_SEC = 0.12
# A decayed bar below this is drawn as nothing, so silence really is empty.
MIN_VISIBLE_HEIGHT = 0.01


def bar_heights(samples: np.ndarray, sample_rate: int, fps: int, frames: int) -> np.ndarray:
    """Heights in 0..1, shape (frames, BAR_COUNT), of log-spaced bands from LOWEST_HZ to HIGHEST_HZ.

    `samples` is (channels, n) or (n,) float audio in -1..1; it is mixed down to mono. Frame i's window
    is centred on the middle of its interval [i/fps, (i+1)/fps).
    """
    if frames <= 0:
        return np.zeros((0, BAR_COUNT), dtype=np.float32)
    mono = np.asarray(samples, dtype=np.float32)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    window_size = _window_size(sample_rate)
    half = window_size // 2
    # Zero padding on both sides lets every frame take a full window, including the first and last.
    padded = np.zeros(mono.size + window_size + 1, dtype=np.float32)
    padded[half : half + mono.size] = mono
    centres = np.rint((np.arange(frames) + 0.5) * sample_rate / fps).astype(np.int64)
    starts = np.clip(centres, 0, padded.size - window_size)  # centre c in `mono` is c + half in `padded`
    windows = np.lib.stride_tricks.sliding_window_view(padded, window_size)[starts]
    hann = np.hanning(window_size).astype(np.float32)
    power = np.abs(np.fft.rfft(windows * hann, axis=1)) ** 2
    # Parseval: a full-scale sine puts about N * sum(w^2) / 4 into the one-sided power spectrum.
    reference = window_size * float(np.sum(hann.astype(np.float64) ** 2)) / 4
    band_power = _band_power(power, sample_rate / window_size) / reference
    with np.errstate(divide="ignore"):
        decibels = 10 * np.log10(band_power)
    levels = np.clip((decibels - FLOOR_DB) / (CEILING_DB - FLOOR_DB), 0.0, 1.0)
    heights = _attack_release(levels.astype(np.float32), math.exp(-1 / (fps * RELEASE_TIME_SEC)))
    heights[heights < MIN_VISIBLE_HEIGHT] = 0.0
    return heights


def band_edges_hz() -> np.ndarray:
    return np.geomspace(LOWEST_HZ, HIGHEST_HZ, BAR_COUNT + 1)


def _window_size(sample_rate: int) -> int:
    return max(256, 2 ** round(math.log2(sample_rate * WINDOW_SEC)))


def _band_power(power: np.ndarray, bin_hz: float) -> np.ndarray:
    """(frames, BAR_COUNT) power summed over each band; a bin a band edge cuts through is split in
    proportion. Summing power keeps equal power per octave reading equal across bands; the lowest
    bands, narrower than one bin, take a fraction of the bins they sit in.

    A cumulative sum along frequency, read at the band edges, rather than a matrix product: numpy's
    BLAS threads would busy-wait afterwards on cores the encoder needs. Float64 keeps the quiet high
    bands exact next to the loud low ones.
    """
    bins = power.shape[1]
    cumulative = np.zeros((power.shape[0], bins + 1), dtype=np.float64)
    np.cumsum(power, axis=1, out=cumulative[:, 1:])
    # Bin k spans [k - 0.5, k + 0.5) bins, so frequency f sits at f / bin_hz + 0.5 in cumulative units.
    position = np.clip(band_edges_hz() / bin_hz + 0.5, 0.0, float(bins))
    lower = np.minimum(np.floor(position).astype(np.intp), bins - 1)
    fraction = position - lower
    at_edges = cumulative[:, lower] + fraction * (cumulative[:, lower + 1] - cumulative[:, lower])
    return np.diff(at_edges, axis=1)


def _attack_release(levels: np.ndarray, release: float) -> np.ndarray:
    heights = np.empty_like(levels)
    previous = np.zeros(levels.shape[1], dtype=np.float32)
    for index, level in enumerate(levels):
        previous = np.maximum(level, previous * release)
        heights[index] = previous
    return heights
