"""Quality presets and the bitrate that keeps every export under 15 MB."""

import pytest

from casset.media.render.quality import (
    MAX_OUTPUT_BYTES,
    PRESETS,
    QUALITY_PRESETS,
    encode_plan,
    video_bitrate,
)

DURATIONS = [5.0, 7.5, 10.0, 15.0, 20.0, 25.0, 29.9, 30.0]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("duration", DURATIONS)
def test_video_and_audio_fit_in_15_mb_with_headroom(preset, duration):
    plan = encode_plan(preset, duration)
    # Worst case under the VBV: the cap for the whole duration plus one full buffer.
    worst_bits = (plan.video_bitrate + plan.audio_bitrate) * duration + plan.vbv_bufsize
    assert worst_bits / 8 <= MAX_OUTPUT_BYTES * 0.99


@pytest.mark.parametrize("preset", PRESETS)
def test_short_hooks_get_the_preset_cap(preset):
    assert video_bitrate(preset, 5.0) == QUALITY_PRESETS[preset].video_cap_bps


def test_a_30_second_standard_hook_is_limited_by_size_not_by_the_cap():
    expected = int(15_000_000 * 8 * 0.95 / 30) - 160_000
    assert video_bitrate("standard", 30.0) == expected < QUALITY_PRESETS["standard"].video_cap_bps


def test_presets_are_ordered_by_quality():
    high, standard, low = (QUALITY_PRESETS[name] for name in ("high", "standard", "low"))
    assert high.video_cap_bps > standard.video_cap_bps > low.video_cap_bps
    assert high.audio_bps > standard.audio_bps > low.audio_bps
    assert (high.x264_preset, standard.x264_preset, low.x264_preset) == ("veryfast", "ultrafast", "ultrafast")


@pytest.mark.parametrize("duration", DURATIONS)
def test_bitrate_never_grows_with_duration(duration):
    assert video_bitrate("high", duration) >= video_bitrate("high", 30.0)


def test_the_x264_options_carry_the_preset_and_a_vbv():
    plan = encode_plan("high", 20.0)
    options = plan.x264_options()
    assert options == {
        "preset": "veryfast",
        "maxrate": str(plan.video_bitrate),
        "bufsize": str(plan.vbv_bufsize),
    }


def test_a_reduced_retry_lowers_the_bitrate():
    assert (
        encode_plan("standard", 30.0, bitrate_scale=0.8).video_bitrate
        < encode_plan("standard", 30.0).video_bitrate
    )
