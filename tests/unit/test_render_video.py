"""render_hook_video() end to end: real 1080x1920 renders of 5 s hooks, checked by decoding the output."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.stream import VideoStream
from PIL import Image

from casset.media.render import (
    AUDIO_UNREADABLE,
    HOOK_OUT_OF_RANGE,
    INVALID_PRESET,
    VISUAL_DECODE_FAILED,
    RenderError,
    RenderInputs,
    RenderResult,
    layout,
    render_hook_video,
)
from casset.media.render import background as background_module
from casset.media.render.yuv import plane_views
from tests.media_factory import (
    make_audio,
    make_corrupt_mp4,
    make_mp4_with_undecodable_frames,
    make_video,
    set_mp4_rotation,
)

HOOK_SEC = 5.0
FRAMES = round(HOOK_SEC * layout.FPS)
SECRET = "Secret Session Title"
RATE = 48_000
CLICK_IN_HOOK_SEC = (60 + 0.5) / layout.FPS  # the middle of frame 60
HOOK_START_SEC = 3.0


# Inputs


def _write_tone_m4a(path: Path, seconds: float, tags: dict[str, str]) -> Path:
    """A tagged AAC track: a 440 Hz tone, silent from 1.2 s before a click at HOOK_START + CLICK to 0.5 s
    after it, so the bars have fully released when the click comes."""
    samples = 0.3 * np.sin(2 * np.pi * 440 * np.arange(round(seconds * RATE)) / RATE)
    click_at = round((HOOK_START_SEC + CLICK_IN_HOOK_SEC) * RATE)
    samples[click_at - round(1.2 * RATE) : click_at + RATE // 2] = 0.0
    samples[click_at] = 0.9
    stereo = np.stack([samples, samples]).astype(np.float32)
    with av.open(str(path), mode="w", format="mp4") as output:
        output.metadata.update(tags)
        stream = output.add_stream("aac", rate=RATE, layout="stereo")
        stream.metadata.update(tags)
        for start in range(0, stereo.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(stereo[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            frame.sample_rate = RATE
            frame.pts = start
            frame.time_base = Fraction(1, RATE)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _write_clip(
    path: Path,
    pictures: Sequence[np.ndarray],
    *,
    pts_ms: Sequence[int] | None = None,
    fps: int = 30,
    tags: dict[str, str] | None = None,
) -> Path:
    """Encode RGB pictures as H.264 MP4; `pts_ms` gives variable timestamps in milliseconds."""
    height, width = pictures[0].shape[:2]
    time_base = Fraction(1, 1000) if pts_ms is not None else Fraction(1, fps)
    with av.open(str(path), mode="w", format="mp4") as output:
        if tags:
            output.metadata.update(tags)
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "10"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = time_base
        if tags:
            stream.metadata.update(tags)
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts = pts_ms[index] if pts_ms is not None else index
            frame.time_base = time_base
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _grey(width: int, height: int, level: int) -> np.ndarray:
    return np.full((height, width, 3), level, dtype=np.uint8)


def _split(width: int, height: int, *, first: int, second: int, vertical: bool) -> np.ndarray:
    """Left/right halves (vertical split) or top/bottom halves of two grey levels."""
    picture = _grey(width, height, second)
    if vertical:
        picture[:, : width // 2] = first
    else:
        picture[: height // 2] = first
    return picture


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("render-media")
    tags = {"title": SECRET, "comment": "private notes", "artist": "Someone Else"}
    _write_tone_m4a(folder / "track.m4a", seconds=12.0, tags=tags)
    make_video(folder / "visual_plain.mp4", seconds=2.0, width=180, height=320, fps=24, brightness=0.8)
    _write_clip(
        folder / "visual.mp4", [_grey(180, 320, 200)] * 20, fps=10, tags={"title": SECRET, "comment": "notes"}
    )
    Image.new("RGB", (400, 400), (30, 160, 220)).save(folder / "cover.jpg")
    Image.new("RGB", (200, 200), (240, 200, 40)).save(folder / "avatar.png")
    return folder


def _inputs(media: Path, **overrides) -> RenderInputs:
    values = {
        "audio_path": str(media / "track.m4a"),
        "hook_start_sec": HOOK_START_SEC,
        "hook_duration_sec": HOOK_SEC,
        "visual_path": str(media / "visual.mp4"),
        "visual_mean_luminance": 0.75,
        "cover_path": str(media / "cover.jpg"),
        "avatar_path": str(media / "avatar.png"),
        "title": "Test Title",
        "artist": "Test Artist",
        "share_url": "https://casset.app/s/abc",
        "attribution_handle": "pixelwitch",
        "preset": "standard",
    }
    values.update(overrides)
    return RenderInputs(**values)


def _render(media: Path, name: str, **overrides) -> RenderResult:
    return render_hook_video(_inputs(media, **overrides), str(media / f"{name}.mp4"))


def _decoded_lumas(path: str, indices: Sequence[int]) -> dict[int, np.ndarray]:
    wanted = set(indices)
    lumas = {}
    with av.open(path) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                lumas[index] = plane_views(frame.reformat(format="yuv420p"))[0].astype(np.float32)
            if len(lumas) == len(wanted):
                break
    return lumas


def _box_mean(luma: np.ndarray, top: int, bottom: int, left: int = 0, right: int = layout.WIDTH) -> float:
    return float(luma[top:bottom, left:right].mean())


@pytest.fixture(scope="module")
def full_render(media) -> RenderResult:
    return _render(media, "full")


# The output file


def test_output_is_h264_and_aac_1080x1920_at_30_fps(full_render):
    assert full_render.warnings == ()
    with av.open(full_render.path) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.codec_context.width, video.codec_context.height) == (1080, 1920)
        assert video.average_rate == 30
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.channels == 2 and audio.codec_context.sample_rate in (44_100, 48_000)
        assert sum(1 for _ in container.decode(video=0)) == FRAMES
    assert (full_render.width, full_render.height, full_render.fps, full_render.frames) == (
        1080,
        1920,
        30,
        FRAMES,
    )


def test_duration_is_the_hook_within_one_frame(full_render):
    assert full_render.duration_sec == pytest.approx(HOOK_SEC, abs=1 / layout.FPS)
    with av.open(full_render.path) as container:
        for stream in container.streams:
            assert float(stream.duration * stream.time_base) == pytest.approx(HOOK_SEC, abs=1 / layout.FPS)


def test_moov_comes_before_mdat(full_render):
    data = Path(full_render.path).read_bytes()
    boxes = []
    position = 0
    while position + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, position)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, position + 8)
        boxes.append(kind)
        position += size if size else len(data)
    assert boxes.index(b"moov") < boxes.index(b"mdat")


def test_nothing_is_copied_from_the_inputs_metadata(full_render):
    with av.open(full_render.path) as container:
        assert len(container.streams) == 2
        tag_values = list(container.metadata.values())
        for stream in container.streams:
            tag_values += list(stream.metadata.values())
    assert not any(SECRET in value or "notes" in value or "Someone" in value for value in tag_values)


def test_size_and_result_fields_agree_with_the_file(full_render):
    size = Path(full_render.path).stat().st_size
    assert full_render.size_bytes == size <= 15_000_000
    assert full_render.video_bitrate == 4_000_000 and full_render.audio_bitrate == 160_000
    assert {"analyse", "prepare", "render", "total"} <= full_render.timings.keys()


def test_audio_is_cut_at_the_hook_start_to_the_sample(full_render):
    with av.open(full_render.path) as container:
        chunks = [frame.to_ndarray() for frame in container.decode(audio=0)]
        rate = container.streams.audio[0].codec_context.sample_rate
    samples = np.concatenate(chunks, axis=1)[0]
    click_at = int(np.abs(samples).argmax())
    assert click_at / rate == pytest.approx(CLICK_IN_HOOK_SEC, abs=0.003)
    # Short fades: the first and last few milliseconds are quieter than the tone itself.
    assert np.abs(samples[:48]).max() < 0.05 and np.abs(samples[-48:]).max() < 0.05
    assert np.abs(samples[rate // 2 : rate]).max() > 0.2


def test_bars_move_on_the_frame_that_has_the_sound(full_render):
    lumas = _decoded_lumas(full_render.path, [55, 59, 60, 61])
    box = layout.BARS

    def change(first: int, second: int) -> float:
        return float(np.abs(lumas[first] - lumas[second])[box.top : box.bottom, box.left : box.right].mean())

    # Frames 55 and 59 sit in silence (bars fully released); frame 60 holds the click, 61 its release.
    assert change(55, 59) < 2
    assert change(59, 60) > 5
    assert change(59, 60) > change(59, 61) > 2


def test_the_attribution_line_is_there_exactly_when_a_handle_is_set(media, full_render):
    without = _render(media, "no_attribution", attribution_handle=None)
    index = 75
    with_luma = _decoded_lumas(full_render.path, [index])[index]
    without_luma = _decoded_lumas(without.path, [index])[index]
    box = layout.attribution_box(with_share_url=True)
    attribution_change = np.abs(with_luma - without_luma)[box.top : box.bottom, box.left : box.right].mean()
    title_change = np.abs(with_luma - without_luma)[layout.TITLE_TOP : layout.TITLE_TOP + 60, :].mean()
    assert attribution_change > 3
    assert title_change < attribution_change / 5
    # The text is light: drawing it brightens its box.
    assert (
        with_luma[box.top : box.bottom, box.left : box.right].mean()
        > without_luma[box.top : box.bottom, box.left : box.right].mean()
    )


def test_progress_is_reported_often_and_in_order(media):
    fractions: list[float] = []
    render_hook_video(
        _inputs(media, visual_path=None, preset="low"),
        str(media / "progress.mp4"),
        on_progress=fractions.append,
    )
    assert len(fractions) >= FRAMES // 2
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and 0 < fractions[0] < 0.05


# Backgrounds


def test_a_bright_visual_gets_a_scrim_and_a_dark_one_does_not(media, full_render):
    dark_setting = _render(media, "no_scrim", visual_mean_luminance=0.3)
    with_scrim = _decoded_lumas(full_render.path, [30])[30]
    without_scrim = _decoded_lumas(dark_setting.path, [30])[30]
    scrim_top = round(layout.HEIGHT * (1 - layout.SCRIM_HEIGHT_FRACTION))
    assert _box_mean(with_scrim, 1860, 1920) < _box_mean(without_scrim, 1860, 1920) - 60
    assert abs(_box_mean(with_scrim, 100, scrim_top - 20) - _box_mean(without_scrim, 100, scrim_top - 20)) < 2


@pytest.mark.parametrize(("rotation", "top_is_bright"), [(90, True), (270, False)])
def test_rotated_sources_come_out_upright(media, tmp_path, rotation, top_is_bright):
    # Coded landscape, left half bright: rotated 90° clockwise for display, the top half is bright.
    clip = _write_clip(tmp_path / "rotated.mp4", [_split(320, 180, first=220, second=30, vertical=True)] * 10)
    set_mp4_rotation(clip, rotation)
    result = _render(media, f"rotated_{rotation}", visual_path=str(clip), visual_mean_luminance=None)
    assert result.warnings == ()
    luma = _decoded_lumas(result.path, [20])[20]
    top, lower = _box_mean(luma, 100, 800), _box_mean(luma, 990, 1130)
    # A 180x320 display picture is 9:16: cover mode, with the split exactly at mid-height.
    assert (top > lower + 100) if top_is_bright else (lower > top + 100)


def test_landscape_sources_are_centre_cropped_and_zoomed(media, tmp_path):
    clip = _write_clip(
        tmp_path / "landscape.mp4", [_split(320, 180, first=220, second=30, vertical=True)] * 10
    )
    result = _render(media, "landscape", visual_path=str(clip), visual_mean_luminance=None)
    assert result.warnings == ()
    luma = _decoded_lumas(result.path, [20])[20]
    # The centre crop keeps the split in the middle; no letterbox bands above or below.
    assert _box_mean(luma, 50, 1000, 100, 480) > 180
    assert _box_mean(luma, 50, 1000, 600, 980) < 60
    assert _box_mean(luma, 0, 8, 100, 480) > 180


def test_portrait_sources_that_are_not_nine_by_sixteen_sit_over_a_blurred_backdrop(media, tmp_path):
    clip = _write_clip(tmp_path / "portrait.mp4", [_grey(240, 320, 200)] * 10)  # 3:4
    result = _render(media, "portrait", visual_path=str(clip), visual_mean_luminance=None)
    assert result.warnings == ()
    luma = _decoded_lumas(result.path, [20])[20]
    picture = _box_mean(luma, 400, 1000)  # the fitted picture: rows 240..1680
    backdrop = _box_mean(luma, 20, 200)  # the dimmed, blurred copy above it
    assert picture == pytest.approx(16 + 219 * 200 / 255, abs=6)
    assert backdrop < picture - 50 and backdrop > 40


def test_variable_frame_rate_sources_play_at_their_timestamps(media, tmp_path):
    pts_ms = [0, 50, 210, 250, 610, 1015, 1120, 1710, 2520, 3150, 3590, 4420, 5050, 5560, 6500]
    levels = [40 + 12 * index for index in range(len(pts_ms))]
    clip = _write_clip(tmp_path / "vfr.mp4", [_grey(90, 160, level) for level in levels], pts_ms=pts_ms)
    result = _render(media, "vfr", visual_path=str(clip), visual_mean_luminance=None)
    assert result.warnings == ()
    checked = [0, 1, 6, 7, 8, 18, 19, 31, 33, 60, 94, 105, 132, 149]
    lumas = _decoded_lumas(result.path, checked)
    for index in checked:
        now_ms = index * 1000 / layout.FPS
        shown = max(position for position, pts in enumerate(pts_ms) if pts <= now_ms)
        expected = 16 + 219 * levels[shown] / 255
        assert _box_mean(lumas[index], 100, 900) == pytest.approx(expected, abs=4), index


def test_short_visuals_loop_seamlessly(media, tmp_path):
    levels = [30 + 20 * index for index in range(10)]  # ten distinct frames at 10 fps: a 1 s loop
    clip = _write_clip(tmp_path / "loop.mp4", [_grey(90, 160, level) for level in levels], fps=10)
    result = _render(media, "loop", visual_path=str(clip), visual_mean_luminance=None)
    assert result.warnings == ()
    checked = [0, 2, 3, 29, 30, 31, 59, 60, 89, 90, 119, 149]
    lumas = _decoded_lumas(result.path, checked)
    for index in checked:
        shown = (index * 10 // layout.FPS) % 10
        expected = 16 + 219 * levels[shown] / 255
        assert _box_mean(lumas[index], 100, 900) == pytest.approx(expected, abs=4), index


# Fallbacks and failures


@pytest.mark.parametrize("make_bad_visual", [make_corrupt_mp4, make_mp4_with_undecodable_frames])
def test_a_visual_that_cannot_be_decoded_falls_back_to_the_cover(media, tmp_path, make_bad_visual):
    bad = make_bad_visual(tmp_path / "bad.mp4")
    result = _render(media, "fallback", visual_path=str(bad))
    assert len(result.warnings) == 1 and result.warnings[0].startswith(f"{VISUAL_DECODE_FAILED}: ")
    assert result.frames == FRAMES and result.size_bytes > 0
    _assert_shows_the_cover_card(result.path)


def test_a_visual_that_fails_mid_stream_falls_back_to_the_cover(media, monkeypatch):
    real_frame_at = background_module._LoopingTimeline.frame_at
    calls = {"count": 0}

    def failing_frame_at(self, time_sec):
        calls["count"] += 1
        if calls["count"] > 40:
            raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
        return real_frame_at(self, time_sec)

    monkeypatch.setattr(background_module._LoopingTimeline, "frame_at", failing_frame_at)
    fractions: list[float] = []
    result = render_hook_video(
        _inputs(media, visual_path=str(media / "visual_plain.mp4")),
        str(media / "mid_stream.mp4"),
        on_progress=fractions.append,
    )
    assert [warning.split(":")[0] for warning in result.warnings] == [VISUAL_DECODE_FAILED]
    assert result.frames == FRAMES
    assert fractions == sorted(fractions)
    _assert_shows_the_cover_card(result.path, index=10)


def _assert_shows_the_cover_card(path: str, index: int = 30) -> None:
    luma = _decoded_lumas(path, [index])[index]
    card = layout.COVER_CARD
    cover_luma = 16 + 219 * (0.2126 * 30 + 0.7152 * 160 + 0.0722 * 220) / 255
    assert _box_mean(
        luma, card.top + 100, card.bottom - 100, card.left + 100, card.right - 100
    ) == pytest.approx(cover_luma, abs=4)


def test_without_visual_or_cover_a_gradient_is_drawn(media):
    result = _render(media, "gradient", visual_path=None, cover_path=None, avatar_path=None, preset="low")
    luma = _decoded_lumas(result.path, [10])[10]
    assert result.warnings == () and 20 < _box_mean(luma, 0, 1000) < 120
    assert result.video_bitrate == 2_000_000 and result.audio_bitrate == 128_000


def test_unreadable_cover_and_avatar_are_warnings(media, tmp_path):
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff" + b"\x00" * 100)
    result = _render(
        media,
        "broken_images",
        visual_path=None,
        cover_path=str(tmp_path / "broken.jpg"),
        avatar_path=str(tmp_path / "broken.jpg"),
        preset="low",
    )
    assert sorted(warning.split(":")[0] for warning in result.warnings) == [
        "AVATAR_UNREADABLE",
        "COVER_UNREADABLE",
    ]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"hook_duration_sec": 4.9}, HOOK_OUT_OF_RANGE),
        ({"hook_duration_sec": 30.5}, HOOK_OUT_OF_RANGE),
        ({"hook_start_sec": -1.0}, HOOK_OUT_OF_RANGE),
        ({"hook_start_sec": float("nan")}, HOOK_OUT_OF_RANGE),
        ({"hook_start_sec": 9.0}, HOOK_OUT_OF_RANGE),  # the 12 s track ends before 9 + 5
        ({"preset": "ultra"}, INVALID_PRESET),
    ],
)
def test_inputs_that_cannot_make_a_video_raise_with_a_reason(media, overrides, reason):
    with pytest.raises(RenderError) as raised:
        _render(media, "refused", **overrides)
    assert raised.value.reason == reason
    assert not (media / "refused.mp4").exists()


@pytest.mark.parametrize("content", [b"", b"plain text, not audio", b"ID3" + bytes(200)])
def test_unreadable_audio_raises(media, tmp_path, content):
    (tmp_path / "audio.mp3").write_bytes(content)
    with pytest.raises(RenderError) as raised:
        _render(media, "refused", audio_path=str(tmp_path / "audio.mp3"))
    assert raised.value.reason == AUDIO_UNREADABLE


def test_other_audio_formats_and_rates_are_resampled(media, tmp_path):
    track = make_audio(tmp_path / "track.flac", seconds=6.0, sample_rate=22_050, channels=1)
    result = _render(media, "flac", audio_path=str(track), hook_start_sec=0.5, visual_path=None, preset="low")
    with av.open(result.path) as container:
        audio = container.streams.audio[0].codec_context
        assert (audio.sample_rate, audio.channels) == (48_000, 2)
    assert result.duration_sec == pytest.approx(HOOK_SEC, abs=1 / layout.FPS)


def test_the_high_preset_renders_at_its_own_bitrates(media):
    result = _render(media, "high", visual_path=str(media / "visual_plain.mp4"), preset="high")
    assert result.warnings == ()
    assert (result.video_bitrate, result.audio_bitrate) == (6_000_000, 192_000)
    assert result.size_bytes <= 15_000_000
