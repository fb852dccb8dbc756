"""The moving background: a visual decoded with PyAV, upright, fitted to 9:16 and looped seamlessly.

A producer thread decodes, rotates, crops, scales and lays the static overlay on top (libavfilter:
swscale and the overlay filter's SIMD blend; PyAV releases the GIL for all of it) and hands finished
1080x1920 yuv420p frames to the compositor through a bounded queue, so decoding overlaps compositing
and encoding and at most a few frames are ever in flight. Each frame handed over belongs to the
compositor alone, which draws the bars straight into it.

Output instant i/fps shows the source frame whose presentation interval covers it, so variable frame
rate sources play at their true speed. Loops are seamless because the loop period is the last frame's
end, not the container's rounded duration. When the hook outlasts the clip and its decoded frames
fit the cache budget, the first pass is kept in memory and later passes cost no decoding.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
import queue
import statistics
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
import numpy as np
from av.container import InputContainer
from av.filter import Graph
from av.filter.context import FilterContext
from av.sidedata.sidedata import Type as SideDataType
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from casset.media.magic import DEMUXER_BY_CONTAINER, HEAD_BYTES, VIDEO_CONTAINERS, sniff
from casset.media.render.fit import FitPlan, backdrop_rect, fit
from casset.media.render.yuv import OverlayImage, copy_planes, new_canvas, plane_views

# Decoded source frames kept for looping (a 720x1280 8 s clip at 30 fps is about 340 MiB).
DEFAULT_CACHE_BUDGET_BYTES = 384 * 1024 * 1024
QUEUE_FRAMES = 4
MAX_SIDE_PX = 4096
# How long the compositor waits for the next background before declaring the decoder stuck.
FRAME_TIMEOUT_SEC = 60.0
_DEFAULT_FRAME_INTERVAL_SEC = 1 / 30
# Output instants that coincide with a source timestamp (a 30, 15 or 10 fps clip) must not land on the
# previous frame through float rounding, so a frame starting up to this much later already counts.
_TIMESTAMP_SLACK_SEC = 0.0005
# The blurred backdrop of "fit-blur" is filtered at 1/8 of the canvas: blurring there is nearly free.
_BACKDROP_DIVISOR = 8
_BACKDROP_BLUR_SIGMA = 6  # gblur: PyAV's LGPL FFmpeg has no boxblur
_PYAV_ERRORS = (av.error.FFmpegError, OSError, ValueError, RuntimeError)


class VisualUnusable(Exception):
    """The visual cannot be shown; the render falls back to the cover."""


@dataclass(frozen=True)
class VisualInfo:
    width: int  # display size, after rotation
    height: int
    rotation_deg: int  # clockwise
    plan: FitPlan


@dataclass
class _Failure:
    error: BaseException


class VisualBackground:
    """Background frames for output frames 0..frames-1, in order, from `next_frame()`."""

    def __init__(
        self,
        path: str,
        *,
        frames: int,
        fps: int,
        width: int,
        height: int,
        scale_flags: str,
        hook_duration_sec: float,
        overlay: OverlayImage | None = None,
        cache_budget_bytes: int = DEFAULT_CACHE_BUDGET_BYTES,
    ) -> None:
        self._frames = frames
        self._fps = fps
        self._queue: queue.Queue[VideoFrame | _Failure] = queue.Queue(maxsize=QUEUE_FRAMES)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._container = _open(path)
        try:
            stream = _video_stream(self._container)
            # One decoding thread: libx264 keeps every core busy, and frame threads would only add
            # hand-off overhead (measured: 1.8 s against 0.7 s of CPU for the benchmark's 240 frames).
            stream.codec_context.thread_count = 1
            frames_iter = _decoded(self._container, stream)
            first = next(frames_iter, None)
            if first is None:
                raise VisualUnusable("no video frame could be decoded")
            if first.width > MAX_SIDE_PX or first.height > MAX_SIDE_PX:
                raise VisualUnusable(f"frames are {first.width}x{first.height}, too large")
            rotation = _rotation_deg(first, stream)
            display_w, display_h = (
                (first.height, first.width) if rotation in (90, 270) else (first.width, first.height)
            )
            plan = fit(display_w, display_h, width, height)
            self.info = VisualInfo(display_w, display_h, rotation, plan)
            self._timeline = _LoopingTimeline(
                self._container,
                stream,
                frames_iter,
                first,
                _cache_budget(self._container, stream, first, hook_duration_sec, cache_budget_bytes),
            )
            self._graph, self._source, self._sink = _build_graph(
                first, rotation, plan, width, height, scale_flags, fps, overlay
            )
            # Filter the first frame now, so a visual that cannot be filtered fails before rendering.
            first.pts = 0
            self._source.push(first)
            self._first_scaled: VideoFrame | None = _pull(self._sink)
        except VisualUnusable:
            self._container.close()
            raise
        except (*_PYAV_ERRORS, StopIteration) as error:
            self._container.close()
            raise VisualUnusable(_describe(error)) from error

    def start(self) -> None:
        self._thread = threading.Thread(target=self._produce, name="visual-decoder", daemon=True)
        self._thread.start()

    def next_frame(self) -> VideoFrame:
        try:
            item = self._queue.get(timeout=FRAME_TIMEOUT_SEC)
        except queue.Empty as error:
            raise VisualUnusable("decoding stalled") from error
        if isinstance(item, _Failure):
            raise VisualUnusable(_describe(item.error)) from item.error
        return item

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            while self._thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    self._queue.get(timeout=0.05)  # unblock a producer waiting on a full queue
                self._thread.join(timeout=0.05)
        self._timeline.release()
        self._container.close()

    def __enter__(self) -> VisualBackground:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _produce(self) -> None:
        try:
            assert self._first_scaled is not None
            scaled, self._first_scaled = self._first_scaled, None
            source: VideoFrame | None = self._timeline.frame_at(0.0)
            for index in range(self._frames):
                if self._stop.is_set():
                    return
                following = (
                    self._timeline.frame_at((index + 1) / self._fps) if index + 1 < self._frames else None
                )
                # A source frame shown for several output frames (a clip slower than 30 fps) is filtered
                # once; every use but the last gets a copy, since the compositor draws into what it gets.
                self._put(_copy(scaled) if following is source else scaled)
                if following is not None and following is not source:
                    # The buffer source's time base is 1/fps, so the output index is a valid pts.
                    following.pts = index + 1
                    self._source.push(following)
                    scaled = _pull(self._sink)
                source = following
        except Exception as error:  # every failure reaches the compositor, which falls back
            self._put(_Failure(error))

    def _put(self, item: VideoFrame | _Failure) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


class _LoopingTimeline:
    """The source frame on screen at any time of the looped clip, decoding only as far as needed."""

    def __init__(
        self,
        container: InputContainer,
        stream: VideoStream,
        frames_iter: Iterator[VideoFrame],
        first: VideoFrame,
        cache_budget_bytes: int,
    ) -> None:
        self._container = container
        self._stream = stream
        self._frames_iter = frames_iter
        self._time_base = stream.time_base or Fraction(1, 90_000)
        self._origin_pts = first.pts or 0
        rate = stream.average_rate or stream.guessed_rate
        self._nominal_interval = float(1 / rate) if rate and rate > 0 else _DEFAULT_FRAME_INTERVAL_SEC
        self._current: tuple[float, VideoFrame] = (0.0, first)
        self._upcoming: tuple[float, VideoFrame] | None = None
        self._intervals: list[float] = []
        self._pass_start_sec = 0.0  # output time at which the current decoding pass began
        self._period: float | None = None
        self._cache_budget = cache_budget_bytes
        self._cache: list[tuple[float, VideoFrame]] | None = [(0.0, first)] if cache_budget_bytes else None
        self._cache_bytes = _frame_bytes(first)
        self._cache_times: list[float] = []

    def frame_at(self, time_sec: float) -> VideoFrame:
        """The frame whose presentation interval covers `time_sec` of the endlessly looped clip."""
        time_sec += _TIMESTAMP_SLACK_SEC
        if self._period is not None and self._cache is not None:
            offset = time_sec % self._period
            return self._cache[max(0, bisect.bisect_right(self._cache_times, offset) - 1)][1]
        clip_time = time_sec - self._pass_start_sec
        if self._period is not None and clip_time >= self._period:
            self._restart_pass(time_sec - clip_time % self._period)
            clip_time = time_sec - self._pass_start_sec
        while True:
            if self._upcoming is None:
                self._upcoming = self._read()
                if self._upcoming is None:  # end of the clip: its length is now known
                    self._period = self._end_of_clip()
                    if self._cache is not None:
                        self._cache_times = [time for time, _ in self._cache]
                        return self.frame_at(time_sec - _TIMESTAMP_SLACK_SEC)
                    if clip_time >= self._period:
                        return self.frame_at(time_sec - _TIMESTAMP_SLACK_SEC)
                    break
            if self._upcoming[0] > clip_time:
                break
            self._current = self._upcoming
            self._upcoming = None
        return self._current[1]

    def release(self) -> None:
        self._cache = None
        self._upcoming = None

    def _read(self) -> tuple[float, VideoFrame] | None:
        frame = next(self._frames_iter, None)
        if frame is None:
            return None
        previous_time = self._current[0]
        if frame.pts is None:
            time = previous_time + self._nominal_interval
        else:
            time = float((frame.pts - self._origin_pts) * self._time_base)
        # Out-of-order or repeated timestamps: never let the timeline run backwards.
        time = max(time, previous_time)
        if time > previous_time:
            self._intervals.append(time - previous_time)
        if self._cache is not None:
            self._cache_bytes += _frame_bytes(frame)
            if self._cache_bytes > self._cache_budget:
                self._cache = None  # too big to keep: later passes decode again
            else:
                self._cache.append((time, frame))
        return time, frame

    def _end_of_clip(self) -> float:
        last_time, last_frame = self._current
        duration = 0.0
        if last_frame.duration and last_frame.time_base:
            duration = float(last_frame.duration * last_frame.time_base)
        if duration <= 0:
            duration = statistics.median(self._intervals) if self._intervals else self._nominal_interval
        return last_time + duration

    def _restart_pass(self, pass_start_sec: float) -> None:
        self._container.seek(self._origin_pts, stream=self._stream, backward=True, any_frame=False)
        self._frames_iter = _decoded(self._container, self._stream)
        first = next(self._frames_iter, None)
        if first is None:
            raise VisualUnusable("the clip could not be decoded again for the next loop")
        self._pass_start_sec = pass_start_sec
        self._current = (0.0, first)
        self._upcoming = None


def _open(path: str) -> InputContainer:
    try:
        with open(path, "rb") as file:
            kind = sniff(file.read(HEAD_BYTES))
    except OSError as error:
        raise VisualUnusable(f"the file cannot be read: {_describe(error)}") from error
    if kind not in VIDEO_CONTAINERS:
        raise VisualUnusable(f"expected an MP4, MOV or WebM container, found {kind or 'unrecognised data'}")
    try:
        return av.open(path, mode="r", format=DEMUXER_BY_CONTAINER[kind])
    except _PYAV_ERRORS as error:
        raise VisualUnusable(f"the container cannot be opened: {_describe(error)}") from error


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        if not stream.disposition & Disposition.attached_pic and stream.codec_context is not None:
            return stream
    raise VisualUnusable("the file has no decodable video stream")


def _decoded(container: InputContainer, stream: VideoStream) -> Iterator[VideoFrame]:
    yield from container.decode(stream)


def _known_duration_sec(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _cache_budget(
    container: InputContainer, stream: VideoStream, first: VideoFrame, hook_sec: float, budget: int
) -> int:
    """`budget` when caching the first pass pays off and may fit, else 0. A clip longer than the hook
    never loops; one that visibly cannot fit is not cached only to be dropped half way."""
    visual_sec = _known_duration_sec(container, stream)
    if visual_sec is None:
        return budget
    if visual_sec >= hook_sec:
        return 0
    rate = stream.average_rate or stream.guessed_rate
    if rate and visual_sec * float(rate) * _frame_bytes(first) > budget:
        return 0
    return budget


def _rotation_deg(frame: VideoFrame, stream: VideoStream) -> int:
    """Clockwise display rotation, as the probe reads it: frame side data first, then the stream's."""
    counter_clockwise = 0.0
    if SideDataType.DISPLAYMATRIX in frame.side_data:
        counter_clockwise = frame.rotation
    else:
        matrix_bytes = stream.codec_context.coded_side_data.get("display_matrix")
        if matrix_bytes and len(matrix_bytes) >= 36:
            matrix = np.frombuffer(matrix_bytes[:36], dtype=np.int32)
            counter_clockwise = -math.degrees(math.atan2(float(matrix[1]), float(matrix[0])))
    return round(-counter_clockwise / 90) % 4 * 90


def _pull(sink: FilterContext) -> VideoFrame:
    frame = sink.pull()
    if not isinstance(frame, VideoFrame):
        raise VisualUnusable("the filter graph returned no picture")
    return frame


def _copy(frame: VideoFrame) -> VideoFrame:
    duplicate, planes = new_canvas(frame.width, frame.height)
    copy_planes(plane_views(frame), planes)
    return duplicate


def _frame_bytes(frame: VideoFrame) -> int:
    return sum(plane.buffer_size for plane in frame.planes)


def _build_graph(
    template: VideoFrame,
    rotation_deg: int,
    plan: FitPlan,
    width: int,
    height: int,
    scale_flags: str,
    fps: int,
    overlay: OverlayImage | None,
) -> tuple[Graph, FilterContext, FilterContext]:
    """buffer → upright → fit → yuv420p at width x height → static overlay → buffersink."""
    graph = Graph()
    graph.threads = 1  # the same reasoning for the overlay filter's slice threads
    source = graph.add_buffer(template=template, time_base=Fraction(1, fps))
    chain = [source]
    # Rotate first, so crop rectangles are in display coordinates, the ones `fit()` speaks.
    if rotation_deg == 90:
        chain.append(graph.add("transpose", "dir=clock"))
    elif rotation_deg == 270:
        chain.append(graph.add("transpose", "dir=cclock"))
    elif rotation_deg == 180:
        chain += [graph.add("vflip"), graph.add("hflip")]
    _link(chain)
    upright = chain[-1]
    # threads=1: swscale's own workers cost more in hand-offs than they save on cores libx264 already fills.
    scale_options = f"flags={scale_flags}:out_range=tv:threads=1"
    if plan.mode == "fit-blur":
        split = graph.add("split", "2")
        upright.link_to(split)
        bx, by, bw, bh = backdrop_rect(plan.sw, plan.sh, width, height)
        backdrop = [
            graph.add("crop", f"w={bw}:h={bh}:x={bx}:y={by}"),
            graph.add(
                "scale", f"w={width // _BACKDROP_DIVISOR}:h={height // _BACKDROP_DIVISOR}:{scale_options}"
            ),
            graph.add("gblur", f"sigma={_BACKDROP_BLUR_SIGMA}"),
            # Dim and desaturate a little, so the sharp picture in front reads as the subject.
            graph.add("lutyuv", "y=16+(val-16)*0.55:u=128+(val-128)*0.8:v=128+(val-128)*0.8"),
            graph.add("scale", f"w={width}:h={height}:flags=bilinear"),
        ]
        split.link_to(backdrop[0], 0, 0)
        _link(backdrop)
        front = graph.add("scale", f"w={plan.dw}:h={plan.dh}:{scale_options}")
        split.link_to(front, 1, 0)
        fitted = graph.add("overlay", f"x={plan.dx}:y={plan.dy}:format=yuv420:eof_action=pass")
        backdrop[-1].link_to(fitted, 0, 0)
        front.link_to(fitted, 0, 1)
        last = fitted
    else:
        crop = graph.add("crop", f"w={plan.sw}:h={plan.sh}:x={plan.sx}:y={plan.sy}")
        scale = graph.add("scale", f"w={width}:h={height}:{scale_options}")
        _link([upright, crop, scale])
        last = scale
    overlay_source = None
    if overlay is not None:
        overlay_source = graph.add_buffer(template=overlay.frame, time_base=Fraction(1, fps))
        # One picture, then end of stream: the overlay filter repeats its last picture (eof_action's
        # default) over every later frame, blending only the overlay's own rectangle.
        static = graph.add("overlay", f"x={overlay.left}:y={overlay.top}:format=yuv420:eof_action=repeat")
        last.link_to(static, 0, 0)
        overlay_source.link_to(static, 0, 1)
        last = static
    pixel_format = graph.add("format", "pix_fmts=yuv420p")
    sink = graph.add("buffersink")
    _link([last, pixel_format, sink])
    graph.configure()
    if overlay is not None and overlay_source is not None:
        overlay.frame.pts = 0
        overlay_source.push(overlay.frame)
        overlay_source.push(None)
    return graph, source, sink


def _link(chain: list[FilterContext]) -> None:
    for upstream, downstream in itertools.pairwise(chain):
        upstream.link_to(downstream)


def _describe(error: BaseException) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
