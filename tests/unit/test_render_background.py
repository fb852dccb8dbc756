"""VisualBackground: which source frame each output frame shows, looping, caching and hand-over."""

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.stream import VideoStream

from casset.media.render.background import VisualBackground, VisualUnusable
from casset.media.render.yuv import plane_views
from tests.media_factory import make_video, set_mp4_rotation

CANVAS = (90, 160)  # the timeline logic does not depend on the canvas size; small keeps this fast


def _write_levels(path: Path, levels: list[int], fps: int, size: tuple[int, int] = (90, 160)) -> Path:
    width, height = size
    with av.open(str(path), mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "crf": "10"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index, level in enumerate(levels):
            frame = av.VideoFrame.from_ndarray(
                np.full((height, width, 3), level, dtype=np.uint8), format="rgb24"
            )
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def _levels_shown(path: Path, frames: int, **options) -> list[int]:
    """The source level (0..255 grey) each output frame shows."""
    shown = []
    with VisualBackground(
        str(path), frames=frames, fps=30, width=CANVAS[0], height=CANVAS[1], scale_flags="bilinear",
        hook_duration_sec=frames / 30, **options,
    ) as background:  # fmt: skip
        background.start()
        for _ in range(frames):
            luma = plane_views(background.next_frame())[0]
            shown.append(round((float(luma.mean()) - 16) * 255 / 219))
    return shown


def _nearest(values: list[int], levels: list[int]) -> list[int]:
    return [min(range(len(levels)), key=lambda index: abs(levels[index] - value)) for value in values]


def test_a_30_fps_source_maps_frame_for_frame(tmp_path):
    levels = [20 + 7 * index for index in range(30)]
    clip = _write_levels(tmp_path / "thirty.mp4", levels, fps=30)
    assert _nearest(_levels_shown(clip, 30), levels) == list(range(30))


@pytest.mark.parametrize("cache_budget_bytes", [0, 64 * 1024 * 1024])
def test_short_clips_loop_identically_with_or_without_the_cache(tmp_path, cache_budget_bytes):
    levels = [30 + 25 * index for index in range(8)]  # 8 frames at 12 fps: a 2/3 s loop
    clip = _write_levels(tmp_path / "loop.mp4", levels, fps=12)
    shown = _nearest(_levels_shown(clip, 75, cache_budget_bytes=cache_budget_bytes), levels)
    assert shown == [(index * 12 // 30) % 8 for index in range(75)]


def test_each_handed_over_frame_is_the_compositors_own(tmp_path):
    clip = _write_levels(tmp_path / "slow.mp4", [60, 120, 180], fps=10)  # each shown for 3 output frames
    with VisualBackground(
        str(clip), frames=9, fps=30, width=CANVAS[0], height=CANVAS[1], scale_flags="bilinear",
        hook_duration_sec=0.3,
    ) as background:  # fmt: skip
        background.start()
        frames = [background.next_frame() for _ in range(9)]
    assert len({id(frame) for frame in frames}) == 9
    plane_views(frames[0])[0][:] = 0  # drawing into one must not show up in its repeats
    assert plane_views(frames[1])[0].mean() > 50


def test_upside_down_sources_are_turned_upright(tmp_path):
    picture = np.full((160, 90, 3), 30, dtype=np.uint8)
    picture[:80] = 220  # bright top as coded
    clip = tmp_path / "flipped.mp4"
    with av.open(str(clip), mode="w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "10"})
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = 90, 160, "yuv420p"
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = 0, Fraction(1, 30)
        output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    set_mp4_rotation(clip, 180)
    with VisualBackground(
        str(clip), frames=1, fps=30, width=CANVAS[0], height=CANVAS[1], scale_flags="bilinear",
        hook_duration_sec=1.0,
    ) as background:  # fmt: skip
        assert background.info.rotation_deg == 180
        background.start()
        luma = plane_views(background.next_frame())[0]
    assert luma[:60].mean() < 60 < 150 < luma[100:].mean()


def test_an_unreadable_file_is_reported_as_unusable(tmp_path):
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(VisualUnusable, match="expected an MP4"):
        VisualBackground(
            str(tmp_path / "text.mp4"), frames=1, fps=30, width=90, height=160, scale_flags="bilinear",
            hook_duration_sec=5.0,
        )  # fmt: skip


def _first_luma(path: Path, frames: int = 3) -> list[float]:
    with VisualBackground(
        str(path), frames=frames, fps=30, width=CANVAS[0], height=CANVAS[1], scale_flags="bilinear",
        hook_duration_sec=frames / 30,
    ) as background:  # fmt: skip
        background.start()
        return [float(plane_views(background.next_frame())[0][20:140].mean()) for _ in range(frames)]


def test_webm_vp9_sources_decode(tmp_path):
    clip = make_video(tmp_path / "clip.webm", seconds=0.5, width=64, height=112, fps=10, brightness=0.8)
    assert all(luma > 150 for luma in _first_luma(clip))


def test_full_range_sources_come_out_in_limited_range(tmp_path):
    clip = make_video(tmp_path / "clip.mov", seconds=0.3, width=64, height=112, fps=10, codec="mjpeg")
    # make_video's grey 0.5 is 128 in full range: 16 + 219 * 128 / 255 = 126 in limited range.
    assert all(abs(luma - 126) < 6 for luma in _first_luma(clip))


def test_odd_sizes_and_single_frame_clips_work(tmp_path):
    # libx264 refuses odd yuv420p sizes; FFV1 in Matroska (a WebM-family container) takes them.
    clip = make_video(
        tmp_path / "odd.mkv", seconds=1 / 24, width=91, height=161, codec="ffv1", brightness=0.8
    )
    lumas = _first_luma(clip, frames=40)  # one frame, looped for 40 output frames
    assert max(lumas) - min(lumas) < 0.5 and 180 < lumas[0] < 195  # grey 0.8 with make_video's darker bar
