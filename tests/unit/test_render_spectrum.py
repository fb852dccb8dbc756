"""bar_heights(): per-frame spectrum bars from the hook's audio."""

import numpy as np
import pytest

from casset.media.render.spectrum import BAR_COUNT, band_edges_hz, bar_heights

RATE = 48_000
FPS = 30


def _sweep(seconds: float, low_hz: float, high_hz: float, rate: int = RATE) -> np.ndarray:
    times = np.arange(round(seconds * rate)) / rate
    frequency = low_hz * (high_hz / low_hz) ** (times / seconds)  # exponential: equal time per band
    return (0.5 * np.sin(2 * np.pi * np.cumsum(frequency) / rate)).astype(np.float32)


def test_shape_and_range():
    heights = bar_heights(np.zeros((2, RATE * 2), dtype=np.float32), RATE, FPS, 60)
    assert heights.shape == (60, BAR_COUNT)
    loud = bar_heights(np.random.default_rng(1).uniform(-1, 1, RATE * 2), RATE, FPS, 60)
    assert loud.min() >= 0.0 and loud.max() <= 1.0


def test_band_edges_are_log_spaced_from_40_hz_to_16_khz():
    edges = band_edges_hz()
    assert edges[0] == pytest.approx(40.0) and edges[-1] == pytest.approx(16_000.0)
    ratios = edges[1:] / edges[:-1]
    assert np.allclose(ratios, ratios[0])


def test_a_sine_sweep_moves_the_peak_band_upward():
    seconds = 8.0
    frames = round(seconds * FPS)
    heights = bar_heights(_sweep(seconds, 50.0, 14_000.0), RATE, FPS, frames)
    peaks = heights[5:-5].argmax(axis=1)
    assert peaks[0] <= 5 and peaks[-1] >= BAR_COUNT - 4
    # Monotonic apart from the odd tie between neighbouring bands.
    assert np.all(np.diff(peaks) >= -1)
    assert np.corrcoef(np.arange(peaks.size), peaks)[0, 1] > 0.99


def test_a_tone_lights_the_band_that_contains_it():
    edges = band_edges_hz()
    band = 30
    frequency = float(np.sqrt(edges[band] * edges[band + 1]))
    times = np.arange(RATE * 2) / RATE
    tone = 0.5 * np.sin(2 * np.pi * frequency * times)
    heights = bar_heights(np.stack([tone, tone]), RATE, FPS, 60)
    assert set(heights[10:50].argmax(axis=1)) == {band}


def test_silence_draws_no_bars():
    heights = bar_heights(np.zeros((2, RATE * 3), dtype=np.float32), RATE, FPS, 90)
    assert not heights.any()


def test_bars_fall_back_to_zero_after_the_sound_stops():
    samples = np.zeros(RATE * 3, dtype=np.float32)
    samples[: RATE // 2] = np.random.default_rng(2).uniform(-0.5, 0.5, RATE // 2)
    heights = bar_heights(samples, RATE, FPS, 90)
    assert heights[5].max() > 0.5
    assert not heights[40:].any()


@pytest.mark.parametrize("offset_in_frame", [0.15, 0.5, 0.85])
@pytest.mark.parametrize("rate", [44_100, 48_000])
def test_a_click_peaks_on_the_frame_that_contains_it(offset_in_frame, rate):
    frame = 45
    samples = np.zeros(rate * 3, dtype=np.float32)
    samples[round((frame + offset_in_frame) / FPS * rate)] = 1.0
    heights = bar_heights(samples, rate, FPS, 90)
    loudness = heights.sum(axis=1)
    assert loudness.argmax() == frame
    assert not loudness[: frame - 1].any()  # nothing lights up early


def test_bars_do_not_flicker_on_a_steady_tone():
    times = np.arange(RATE * 2) / RATE
    heights = bar_heights(0.3 * np.sin(2 * np.pi * 1000 * times), RATE, FPS, 60)
    steady = heights[10:50]
    assert np.abs(np.diff(steady, axis=0)).max() < 0.02


def test_a_louder_signal_draws_taller_bars():
    noise = np.random.default_rng(3).uniform(-1, 1, RATE * 2).astype(np.float32)
    quiet = bar_heights(0.05 * noise, RATE, FPS, 60)[10:50].mean()
    loud = bar_heights(0.5 * noise, RATE, FPS, 60)[10:50].mean()
    assert 0 < quiet < loud < 1


def test_mono_and_identical_stereo_agree():
    tone = _sweep(2.0, 100.0, 5000.0)
    assert np.allclose(bar_heights(tone, RATE, FPS, 60), bar_heights(np.stack([tone, tone]), RATE, FPS, 60))


def test_no_frames_gives_an_empty_array():
    assert bar_heights(np.zeros(100), RATE, FPS, 0).shape == (0, BAR_COUNT)
