"""render_hook_video(): audio + visual + overlays → a 1080x1920 H.264/AAC MP4 of at most 15 MB.

Frames are streamed. Over a visual, the background producer (background.py) hands over each frame
already scaled and overlaid with the static layer; over the cover, one pre-composed picture is reused.
The compositor paints the bars into the frame's yuv420p planes and the encoder (libx264 frame threads,
outside the GIL) takes it from there. Audio is encoded alongside, so the muxer interleaves as it goes.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange, Colorspace
from av.video.stream import VideoStream
from PIL import Image

from casset.media.render import layout
from casset.media.render.audio import AacEncoding, HookAudio, load_hook
from casset.media.render.background import VisualBackground, VisualUnusable
from casset.media.render.bars import BarPainter
from casset.media.render.errors import (
    AVATAR_UNREADABLE,
    COVER_UNREADABLE,
    ENCODE_FAILED,
    HOOK_OUT_OF_RANGE,
    INVALID_PRESET,
    OUTPUT_TOO_LARGE,
    OUTPUT_UNWRITABLE,
    VISUAL_DECODE_FAILED,
    RenderError,
)
from casset.media.render.model import RenderInputs, RenderResult
from casset.media.render.overlays import (
    ImageUnreadable,
    OverlayText,
    cover_background,
    load_image,
    static_layer,
)
from casset.media.render.quality import MAX_OUTPUT_BYTES, PRESETS, QUALITY_PRESETS, EncodePlan, encode_plan
from casset.media.render.spectrum import bar_heights
from casset.media.render.yuv import (
    OverlayImage,
    Planes,
    copy_planes,
    fill_from_rgb,
    new_canvas,
    overlay_image,
    plane_views,
)

MIN_HOOK_SEC = 5.0
MAX_HOOK_SEC = 30.0
_HOOK_EPSILON_SEC = 1e-6
# When x264 overshoots the ceiling anyway (it should not: the VBV caps every second), the render is
# repeated once at this share of the bitrate.
_RETRY_BITRATE_SCALE = 0.8
# libx264 copies each picture before avcodec_send_frame() returns; alternating two cover canvases
# anyway keeps that path independent of the detail, for one extra frame of memory.
_CANVAS_RING = 2
_ENCODE_ERRORS = (av.error.FFmpegError, OSError, ValueError, RuntimeError)

ProgressCallback = Callable[[float], None]


def render_hook_video(
    inputs: RenderInputs, output_path: str, *, on_progress: ProgressCallback | None = None
) -> RenderResult:
    """Render the hook video to `output_path`. Raises RenderError when the inputs cannot make one;
    a visual that cannot be decoded falls back to the cover and is reported in `warnings`."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    _validate(inputs)
    with _timed(timings, "analyse"):
        hook = load_hook(inputs.audio_path, inputs.hook_start_sec, inputs.hook_duration_sec)
        encoded_audio = AacEncoding(
            HookAudio(hook.faded(), hook.sample_rate), QUALITY_PRESETS[inputs.preset].audio_bps
        )
        frame_count = max(1, round(inputs.hook_duration_sec * layout.FPS))
        heights = bar_heights(hook.samples, hook.sample_rate, layout.FPS, frame_count)
    warnings: list[str] = []
    with _timed(timings, "prepare"):
        avatar = _optional_image(inputs.avatar_path, AVATAR_UNREADABLE, warnings)
        cover = _optional_image(inputs.cover_path, COVER_UNREADABLE, warnings)
        scene = _Scene(inputs, avatar, cover, BarPainter())
    progress = _MonotonicProgress(on_progress)
    use_visual = inputs.visual_path is not None
    bitrate_scale = 1.0
    while True:
        plan = encode_plan(inputs.preset, inputs.hook_duration_sec, bitrate_scale=bitrate_scale)
        try:
            frames = _render_attempt(
                inputs, output_path, plan, scene, encoded_audio, heights, use_visual, progress, timings
            )
        except VisualUnusable as error:
            warnings.append(f"{VISUAL_DECODE_FAILED}: {error}; rendered over the cover instead")
            use_visual = False
            continue
        size = os.path.getsize(output_path)
        if size <= MAX_OUTPUT_BYTES:
            break
        if bitrate_scale < 1.0:
            _remove(output_path)
            raise RenderError(
                OUTPUT_TOO_LARGE, f"The video came out at {size} bytes even at a reduced bitrate."
            )
        bitrate_scale = _RETRY_BITRATE_SCALE
    progress(1.0)
    timings["total"] = time.perf_counter() - started
    return RenderResult(
        path=output_path,
        size_bytes=size,
        duration_sec=_container_duration_sec(output_path, frames),
        width=layout.WIDTH,
        height=layout.HEIGHT,
        fps=layout.FPS,
        video_bitrate=plan.video_bitrate,
        audio_bitrate=plan.audio_bitrate,
        frames=frames,
        warnings=tuple(warnings),
        timings={name: round(seconds, 4) for name, seconds in timings.items()},
    )


class _Scene:
    """What every frame shares, prepared once per background kind (a visual gets the contrast scrim)."""

    def __init__(
        self, inputs: RenderInputs, avatar: Image.Image | None, cover: Image.Image | None, painter: BarPainter
    ) -> None:
        self.inputs = inputs
        self.painter = painter
        self._avatar = avatar
        self._cover = cover
        self._text = OverlayText(inputs.title, inputs.artist, inputs.share_url, inputs.attribution_handle)
        self._visual_overlay: OverlayImage | None = None
        self._cover_canvas: tuple[VideoFrame, Planes] | None = None

    def visual_overlay(self) -> OverlayImage | None:
        """The static layer (with the contrast scrim over a bright visual), for the overlay filter."""
        if self._visual_overlay is None:
            luminance = self.inputs.visual_mean_luminance
            bright = luminance is not None and luminance >= layout.BRIGHT_VISUAL_LUMINANCE
            self._visual_overlay = overlay_image(static_layer(self._text, self._avatar, scrim=bright).rgba)
        return self._visual_overlay

    def cover_planes(self) -> Planes:
        """The whole static picture (cover treatment and overlays) composed once."""
        if self._cover_canvas is None:
            rgb = cover_background(self._cover).astype(np.float32)
            layer = static_layer(self._text, self._avatar, scrim=False).rgba.astype(np.float32)
            alpha = layer[..., 3:] / 255.0
            composed = rgb * (1 - alpha) + layer[..., :3] * alpha
            frame, planes = new_canvas(layout.WIDTH, layout.HEIGHT)
            fill_from_rgb(planes, composed)
            self._cover_canvas = (frame, planes)
        return self._cover_canvas[1]


def _render_attempt(
    inputs: RenderInputs,
    output_path: str,
    plan: EncodePlan,
    scene: _Scene,
    audio: AacEncoding,
    heights: np.ndarray,
    use_visual: bool,
    progress: _MonotonicProgress,
    timings: dict[str, float],
) -> int:
    frame_count = heights.shape[0]
    with contextlib.ExitStack() as stack:
        next_frame: Callable[[int], VideoFrame]
        if use_visual and inputs.visual_path is not None:
            with _timed(timings, "prepare"):
                visual = stack.enter_context(
                    VisualBackground(
                        inputs.visual_path,
                        frames=frame_count,
                        fps=layout.FPS,
                        width=layout.WIDTH,
                        height=layout.HEIGHT,
                        scale_flags=plan.quality.scale_flags,
                        hook_duration_sec=inputs.hook_duration_sec,
                        overlay=scene.visual_overlay(),
                    )
                )
            visual.start()
            next_frame = _VisualFrames(visual)
        else:
            with _timed(timings, "prepare"):
                next_frame = _CoverFrames(scene.cover_planes(), scene.painter)
        with _timed(timings, "render"):
            try:
                _encode(output_path, plan, audio, heights, next_frame, scene.painter, progress, timings)
            except (VisualUnusable, RenderError):
                _remove(output_path)
                raise
    return frame_count


class _VisualFrames:
    def __init__(self, visual: VisualBackground) -> None:
        self._visual = visual

    def __call__(self, index: int) -> VideoFrame:
        frame = self._visual.next_frame()
        frame.make_writable()  # a no-op unless the filters passed a decoded (cached) buffer through
        return frame


class _CoverFrames:
    """Frames over the static cover: canvases that only ever need their bar box restored."""

    def __init__(self, static: Planes, painter: BarPainter) -> None:
        self._static = static
        self._bar_rows = slice(painter.box.top, painter.box.bottom)
        self._canvases = [new_canvas(layout.WIDTH, layout.HEIGHT) for _ in range(_CANVAS_RING)]
        for _, planes in self._canvases:
            copy_planes(static, planes)

    def __call__(self, index: int) -> VideoFrame:
        frame, planes = self._canvases[index % _CANVAS_RING]
        copy_planes(self._static, planes, self._bar_rows)
        return frame


def _encode(
    output_path: str,
    plan: EncodePlan,
    audio: AacEncoding,
    heights: np.ndarray,
    next_frame: Callable[[int], VideoFrame],
    painter: BarPainter,
    progress: _MonotonicProgress,
    timings: dict[str, float],
) -> None:
    try:
        output = av.open(output_path, mode="w", format="mp4", options={"movflags": "+faststart"})
    except _ENCODE_ERRORS as error:
        raise RenderError(OUTPUT_UNWRITABLE, f"The output cannot be created: {_describe(error)}.") from error
    try:
        with output, contextlib.ExitStack() as stack:
            video = _add_video_stream(output, plan)
            audio_track: _AudioTrack | None = None
            # Video packets wait here until the audio encoder is done: the file header needs both streams.
            held: list[av.Packet] = []
            frame_count = heights.shape[0]
            time_base = Fraction(1, layout.FPS)
            for index in range(frame_count):
                frame = next_frame(index)
                painter.draw(plane_views(frame), heights[index])
                frame.pts = index
                frame.time_base = time_base
                packets = video.encode(frame)
                if audio_track is None and audio.done():
                    audio_track = stack.enter_context(_AudioTrack(output, audio.result()))
                if audio_track is None:
                    held += packets
                else:
                    if held:
                        output.mux(held)
                        held = []
                    output.mux(packets)
                    # Audio up to the end of this frame keeps the file interleaved.
                    audio_track.mux_until((index + 1) / layout.FPS)
                progress((index + 1) / frame_count * 0.99)
            if audio_track is None:
                audio_track = stack.enter_context(_AudioTrack(output, audio.result()))
            output.mux(held + video.encode(None))
            audio_track.mux_until(math.inf)
            finalize_started = time.perf_counter()
        timings["finalize"] = timings.get("finalize", 0.0) + time.perf_counter() - finalize_started
    except (VisualUnusable, RenderError):
        raise
    except _ENCODE_ERRORS as error:
        raise RenderError(ENCODE_FAILED, f"Encoding failed: {_describe(error)}.") from error


class _AudioTrack:
    """The pre-encoded AAC, remuxed into the output a frame's worth at a time."""

    def __init__(self, output: av.container.OutputContainer, encoded: bytes) -> None:
        self._output = output
        self._input = av.open(io.BytesIO(encoded), mode="r", format="mp4")
        source = self._input.streams.audio[0]
        self._stream = output.add_stream_from_template(source)
        self._packets = (packet for packet in self._input.demux(source) if packet.dts is not None)
        self._next: av.Packet | None = next(self._packets, None)

    def mux_until(self, time_sec: float) -> None:
        while self._next is not None and self._packet_time(self._next) < time_sec:
            self._next.stream = self._stream
            self._output.mux(self._next)
            self._next = next(self._packets, None)

    @staticmethod
    def _packet_time(packet: av.Packet) -> float:
        if packet.pts is None or packet.time_base is None:
            return -math.inf  # no timestamp: nothing to wait for
        return float(packet.pts * packet.time_base)

    def __enter__(self) -> _AudioTrack:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._input.close()


def _add_video_stream(output: av.container.OutputContainer, plan: EncodePlan) -> VideoStream:
    video = output.add_stream("libx264", rate=layout.FPS, options=plan.x264_options())
    assert isinstance(video, VideoStream)
    video.width = layout.WIDTH
    video.height = layout.HEIGHT
    video.pix_fmt = "yuv420p"
    codec = video.codec_context
    codec.bit_rate = plan.video_bitrate
    codec.thread_type = "AUTO"  # libx264 frame threads
    codec.thread_count = 0
    # The overlays are converted with BT.709 limited range (yuv.py); say so rather than let players guess.
    codec.color_range = ColorRange.MPEG
    codec.colorspace = Colorspace.ITU709
    codec.color_primaries = 1  # BT.709
    codec.color_trc = 1  # BT.709
    return video


def _validate(inputs: RenderInputs) -> None:
    if inputs.preset not in PRESETS:
        raise RenderError(
            INVALID_PRESET, f"Unknown preset {inputs.preset!r}; expected one of {', '.join(PRESETS)}."
        )
    start, duration = inputs.hook_start_sec, inputs.hook_duration_sec
    if not (math.isfinite(start) and math.isfinite(duration)) or start < 0:
        raise RenderError(HOOK_OUT_OF_RANGE, f"The hook must start at 0 s or later, got {start!r}.")
    if not MIN_HOOK_SEC - _HOOK_EPSILON_SEC <= duration <= MAX_HOOK_SEC + _HOOK_EPSILON_SEC:
        raise RenderError(
            HOOK_OUT_OF_RANGE,
            f"The hook must last {MIN_HOOK_SEC:g} to {MAX_HOOK_SEC:g} s, got {duration:g} s.",
        )


def _optional_image(path: str | None, reason: str, warnings: list[str]) -> Image.Image | None:
    if path is None:
        return None
    try:
        return load_image(path)
    except ImageUnreadable as error:
        warnings.append(f"{reason}: {error}; rendered without it")
        return None


def _container_duration_sec(path: str, frames: int) -> float:
    try:
        with av.open(path) as container:
            if container.duration:
                return container.duration / av.time_base
    except _ENCODE_ERRORS:
        pass
    return frames / layout.FPS


@dataclass
class _MonotonicProgress:
    """Forwards progress, never backwards: a fallback re-render starts over without un-reporting."""

    callback: ProgressCallback | None
    reported: float = 0.0

    def __call__(self, fraction: float) -> None:
        if self.callback is None or fraction < self.reported:
            return
        self.reported = fraction
        self.callback(fraction)


@contextlib.contextmanager
def _timed(timings: dict[str, float], phase: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[phase] = timings.get(phase, 0.0) + time.perf_counter() - started


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _describe(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
