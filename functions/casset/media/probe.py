"""Probe an uploaded media file with PyAV: validate it and extract what the pairing system needs.

Pure functions of a local path: no AWS, no network. Every way a file can be unusable surfaces as
`ProbeRejected` with a stable `reason` code; PyAV exceptions never escape. A path that does not exist
raises FileNotFoundError: that is the caller's mistake, not the upload's.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.sidedata.sidedata import Type as SideDataType
from av.stream import Disposition
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from casset.media.magic import AUDIO_CONTAINERS, DEMUXER_BY_CONTAINER, HEAD_BYTES, VIDEO_CONTAINERS, sniff

EMPTY_FILE = "EMPTY_FILE"
TOO_LARGE = "TOO_LARGE"
UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
CORRUPT = "CORRUPT"
NO_VIDEO_STREAM = "NO_VIDEO_STREAM"
NO_AUDIO_STREAM = "NO_AUDIO_STREAM"
TOO_LONG = "TOO_LONG"
DIMENSIONS_TOO_LARGE = "DIMENSIONS_TOO_LARGE"
INVALID_DIMENSIONS = "INVALID_DIMENSIONS"
INVALID_DURATION = "INVALID_DURATION"

DEFAULT_MAX_SIZE_BYTES = 500 * 1024 * 1024

POSTER_MAX_SIDE_PX = 720
# MJPEG quantiser (2 best .. 31 worst), pinned through qmin/qmax: PyAV's `qscale` is only the flag.
POSTER_JPEG_QUANTISER = 5
LUMINANCE_SAMPLE_COUNT = 8
LUMINANCE_SAMPLE_MAX_SIDE_PX = 64
MIN_DURATION_TOLERANCE_SEC = 0.05
MAX_DURATION_TOLERANCE_SEC = 0.5
# Containers whose header duration FFmpeg only estimates from the bitrate: MP3 without a Xing/Info/VBRI
# frame count (seconds off, several times the length when the bitrate varies) and ADTS AAC (no length
# field at all). Their audio is measured by counting what is there instead.
ESTIMATED_DURATION_CONTAINERS = frozenset({"mp3", "adts"})

_PYAV_ERRORS = (av.error.FFmpegError, OSError, ValueError)


class ProbeRejected(Exception):
    """The file cannot be accepted. `reason` is a stable code; `message` is for humans."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class VideoProbe:
    duration_sec: float
    width_px: int  # display width: coded height when the clip is rotated by 90 or 270 degrees
    height_px: int
    fps: float | None
    codec: str
    rotation_deg: int  # clockwise rotation a player applies for display: 0, 90, 180 or 270
    mean_luminance: float  # 0..1, averaged over frames sampled across the clip
    poster_jpeg: bytes  # an early frame, upright, longest side at most POSTER_MAX_SIDE_PX
    size_bytes: int


@dataclass(frozen=True)
class AudioProbe:
    duration_sec: float
    sample_rate: int
    channels: int
    codec: str
    size_bytes: int


def probe_video(
    path: str | os.PathLike[str],
    *,
    max_duration_sec: float = 30.0,
    max_side_px: int = 4096,
    max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES,
) -> VideoProbe:
    """Validate a visual clip and measure it. Raises ProbeRejected when it cannot be used."""
    size_bytes = _checked_size(path, max_size_bytes)
    container_kind = _checked_container(path, VIDEO_CONTAINERS, "a video")
    max_pixels = max_side_px * max_side_px
    with _open(path, container_kind, max_pixels=max_pixels) as container:
        stream = _video_stream(container)
        width, height = _checked_dimensions(stream, max_side_px)
        fps = _frame_rate(stream)
        tolerance = _duration_tolerance_sec(fps)
        duration = _checked_duration(
            _measured_duration_sec(
                path, container_kind, container, stream, max_duration_sec + tolerance, max_pixels
            ),
            max_duration_sec,
            tolerance,
        )
        stream.codec_context.options = {"max_pixels": str(max_pixels)}
        with _decode_errors_as_corrupt():
            first_frame = _first_frame(container, stream)
            _check_frame_dimensions(first_frame, max_side_px)
            rotation = _rotation_deg(first_frame, stream)
            poster = _poster_jpeg(first_frame, rotation)
            mean_luminance = _mean_luminance(container, stream, duration, first_frame, max_side_px)
        codec = stream.codec_context.codec.canonical_name
    if rotation in (90, 270):
        width, height = height, width
    return VideoProbe(
        duration_sec=duration,
        width_px=width,
        height_px=height,
        fps=fps,
        codec=codec,
        rotation_deg=rotation,
        mean_luminance=mean_luminance,
        poster_jpeg=poster,
        size_bytes=size_bytes,
    )


def probe_audio(
    path: str | os.PathLike[str],
    *,
    max_duration_sec: float = 3600.0,
    max_size_bytes: int = DEFAULT_MAX_SIZE_BYTES,
) -> AudioProbe:
    """Validate an audio track and measure it. Raises ProbeRejected when it cannot be used."""
    size_bytes = _checked_size(path, max_size_bytes)
    container_kind = _checked_container(path, AUDIO_CONTAINERS, "an audio")
    with _open(path, container_kind) as container:
        stream = _audio_stream(container)
        tolerance = MIN_DURATION_TOLERANCE_SEC
        scan_limit_sec = max_duration_sec + tolerance
        if container_kind in ESTIMATED_DURATION_CONTAINERS:
            measured = _counted_audio_duration_sec(path, container_kind, stream.index, scan_limit_sec)
        else:
            measured = _measured_duration_sec(path, container_kind, container, stream, scan_limit_sec, None)
        duration = _checked_duration(measured, max_duration_sec, tolerance)
        with _decode_errors_as_corrupt():
            first_frame = next(container.decode(stream), None)
        if first_frame is None:
            raise ProbeRejected(CORRUPT, "No audio frame could be decoded.")
        codec_context = stream.codec_context
        sample_rate = codec_context.sample_rate or first_frame.sample_rate
        channels = codec_context.channels or first_frame.layout.nb_channels
        codec = codec_context.codec.canonical_name
    return AudioProbe(
        duration_sec=duration,
        sample_rate=sample_rate,
        channels=channels,
        codec=codec,
        size_bytes=size_bytes,
    )


def _checked_size(path: str | os.PathLike[str], max_size_bytes: int) -> int:
    size_bytes = os.stat(path).st_size
    if size_bytes == 0:
        raise ProbeRejected(EMPTY_FILE, "The file is empty.")
    if size_bytes > max_size_bytes:
        raise ProbeRejected(TOO_LARGE, f"The file is {size_bytes} bytes; the limit is {max_size_bytes}.")
    return size_bytes


def _checked_container(path: str | os.PathLike[str], accepted: frozenset[str], kind: str) -> str:
    with open(path, "rb") as file:
        head = file.read(HEAD_BYTES)
    container_kind = sniff(head)
    if container_kind not in accepted:
        found = container_kind or "unrecognised data"
        raise ProbeRejected(UNSUPPORTED_FORMAT, f"Expected {kind} container, found {found}.")
    return container_kind


def _open(
    path: str | os.PathLike[str], container_kind: str, *, max_pixels: int | None = None
) -> InputContainer:
    # max_pixels bounds what avformat_find_stream_info may decode while opening, before we see any header.
    options = {"max_pixels": str(max_pixels)} if max_pixels else None
    try:
        return av.open(
            os.fspath(path),
            mode="r",
            format=DEMUXER_BY_CONTAINER[container_kind],
            options=options,
        )
    except _PYAV_ERRORS as error:
        raise ProbeRejected(CORRUPT, f"The container cannot be opened: {_describe(error)}.") from error


def _video_stream(container: InputContainer) -> VideoStream:
    # Cover art in an audio file is a one-frame "video" stream; it is not footage.
    footage = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
    if not footage:
        raise ProbeRejected(NO_VIDEO_STREAM, "The file has no video stream.")
    for stream in footage:
        if stream.codec_context is not None:
            return stream
    raise ProbeRejected(UNSUPPORTED_FORMAT, "The video is in a codec this service cannot decode.")


def _audio_stream(container: InputContainer) -> AudioStream:
    if not container.streams.audio:
        raise ProbeRejected(NO_AUDIO_STREAM, "The file has no audio stream.")
    for stream in container.streams.audio:
        if stream.codec_context is not None:
            return stream
    raise ProbeRejected(UNSUPPORTED_FORMAT, "The audio is in a codec this service cannot decode.")


def _checked_dimensions(stream: VideoStream, max_side_px: int) -> tuple[int, int]:
    width = stream.codec_context.width
    height = stream.codec_context.height
    if width <= 0 or height <= 0:
        raise ProbeRejected(INVALID_DIMENSIONS, f"The video reports a size of {width}x{height}.")
    if width > max_side_px or height > max_side_px:
        raise ProbeRejected(
            DIMENSIONS_TOO_LARGE,
            f"The video is {width}x{height}; each side must be at most {max_side_px} px.",
        )
    return width, height


def _check_frame_dimensions(frame: VideoFrame, max_side_px: int) -> None:
    if frame.width > max_side_px or frame.height > max_side_px:
        raise ProbeRejected(
            DIMENSIONS_TOO_LARGE,
            f"A frame is {frame.width}x{frame.height}; each side must be at most {max_side_px} px.",
        )


def _frame_rate(stream: VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or rate <= 0:
        return None
    return float(rate)


def _duration_tolerance_sec(fps: float | None) -> float:
    # Containers round a clip's end to a frame boundary, so half a frame over the limit is not "too long".
    if not fps:
        return MIN_DURATION_TOLERANCE_SEC
    return min(MAX_DURATION_TOLERANCE_SEC, max(MIN_DURATION_TOLERANCE_SEC, 0.5 / fps))


def _checked_duration(duration_sec: float | None, max_duration_sec: float, tolerance_sec: float) -> float:
    if duration_sec is None or not math.isfinite(duration_sec) or duration_sec <= 0:
        raise ProbeRejected(INVALID_DURATION, "The duration is unknown or not positive.")
    if duration_sec > max_duration_sec + tolerance_sec:
        raise ProbeRejected(
            TOO_LONG, f"The file lasts {duration_sec:.2f} s; the limit is {max_duration_sec:g} s."
        )
    return duration_sec


def _measured_duration_sec(
    path: str | os.PathLike[str],
    container_kind: str,
    container: InputContainer,
    stream: VideoStream | AudioStream,
    scan_limit_sec: float,
    max_pixels: int | None,
) -> float | None:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    if stream.duration is not None and stream.duration > 0 and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    # Live-style WebM (browser MediaRecorder) carries no duration anywhere in its headers.
    return _duration_from_packets(path, container_kind, stream.index, scan_limit_sec, max_pixels)


def _duration_from_packets(
    path: str | os.PathLike[str],
    container_kind: str,
    stream_index: int,
    scan_limit_sec: float,
    max_pixels: int | None,
) -> float | None:
    """Span of the packet timestamps, read without decoding; stops once it passes `scan_limit_sec`."""
    first_pts: int | None = None
    end_pts: int | None = None
    # A separate container, so the caller's is still positioned at the first packet.
    with _open(path, container_kind, max_pixels=max_pixels) as scan, _decode_errors_as_corrupt():
        stream = scan.streams[stream_index]
        for packet in scan.demux(stream):
            if packet.pts is None:
                continue
            first_pts = packet.pts if first_pts is None else min(first_pts, packet.pts)
            packet_end = packet.pts + (packet.duration or 0)
            end_pts = packet_end if end_pts is None else max(end_pts, packet_end)
            if float((end_pts - first_pts) * stream.time_base) > scan_limit_sec:
                break
        if first_pts is None or end_pts is None:
            return None
        return float((end_pts - first_pts) * stream.time_base)


def _counted_audio_duration_sec(
    path: str | os.PathLike[str], container_kind: str, stream_index: int, scan_limit_sec: float
) -> float | None:
    """The audio's true length without decoding it: the sum of its packets' durations, less the samples
    the demuxer says a decoder drops (an encoder's delay and padding from a LAME/Xing header), i.e. what
    a decoder outputs. Stops once it passes `scan_limit_sec`."""
    with _open(path, container_kind) as scan, _decode_errors_as_corrupt():
        stream = next(audio for audio in scan.streams.audio if audio.index == stream_index)
        time_base = stream.time_base
        sample_rate = stream.codec_context.sample_rate
        if time_base is None or not sample_rate:
            return None
        ticks = 0
        skipped_samples = 0
        for packet in scan.demux(stream):
            if not packet.size:  # the flush packet at the end of the stream
                continue
            ticks += packet.duration or 0
            if packet.has_sidedata("skip_samples"):
                skipped_samples += _skipped_samples(bytes(packet.get_sidedata("skip_samples")))
            if float(ticks * time_base) > scan_limit_sec:
                break
        if ticks <= 0:
            return None
        return max(0.0, float(ticks * time_base) - skipped_samples / sample_rate)


def _skipped_samples(side_data: bytes) -> int:
    # AV_PKT_DATA_SKIP_SAMPLES: little-endian uint32s, samples skipped at the start and dropped at the end.
    if len(side_data) < 8:
        return 0
    return int.from_bytes(side_data[0:4], "little") + int.from_bytes(side_data[4:8], "little")


@contextmanager
def _decode_errors_as_corrupt() -> Iterator[None]:
    try:
        yield
    except _PYAV_ERRORS as error:
        raise ProbeRejected(CORRUPT, f"The media cannot be decoded: {_describe(error)}.") from error


def _describe(error: Exception) -> str:
    # FFmpeg's strerror without the local path it names; the chained exception keeps the detail for logs.
    return getattr(error, "strerror", None) or type(error).__name__


def _first_frame(container: InputContainer, stream: VideoStream) -> VideoFrame:
    frame = next(container.decode(stream), None)
    if frame is None:
        raise ProbeRejected(CORRUPT, "No video frame could be decoded.")
    return frame


def _rotation_deg(frame: VideoFrame, stream: VideoStream) -> int:
    # FFmpeg copies the container display matrix onto decoded frames; VideoFrame.rotation reads it
    # as a counter-clockwise angle in [-180, 180]. The stream's coded side data is the fallback.
    counter_clockwise: float
    if SideDataType.DISPLAYMATRIX in frame.side_data:
        counter_clockwise = frame.rotation
    else:
        counter_clockwise = _stream_counter_clockwise_rotation(stream)
    return round(-counter_clockwise / 90) % 4 * 90


def _stream_counter_clockwise_rotation(stream: VideoStream) -> float:
    matrix_bytes = stream.codec_context.coded_side_data.get("display_matrix")
    if not matrix_bytes or len(matrix_bytes) < 36:
        return 0.0
    matrix = np.frombuffer(matrix_bytes[:36], dtype=np.int32)
    # Same formula as FFmpeg's av_display_rotation_get.
    return -math.degrees(math.atan2(float(matrix[1]), float(matrix[0])))


def _scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _poster_jpeg(frame: VideoFrame, rotation_deg: int) -> bytes:
    width, height = _scaled_size(frame.width, frame.height, POSTER_MAX_SIDE_PX)
    rgb = frame.reformat(width=width, height=height, format="rgb24").to_ndarray()
    if rotation_deg:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=-(rotation_deg // 90)))
    upright = VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width = upright.width
    encoder.height = upright.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    encoder.qmin = encoder.qmax = POSTER_JPEG_QUANTISER
    packets = [*encoder.encode(upright), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def _frame_luminance(frame: VideoFrame) -> float:
    width, height = _scaled_size(frame.width, frame.height, LUMINANCE_SAMPLE_MAX_SIDE_PX)
    luma = frame.reformat(width=width, height=height, format="gray").to_ndarray()
    return float(luma.mean()) / 255.0


def _mean_luminance(
    container: InputContainer,
    stream: VideoStream,
    duration_sec: float,
    first_frame: VideoFrame,
    max_side_px: int,
) -> float:
    """Average luma over frames spread across the clip, one seek and one decoded frame per sample."""
    start_pts = stream.start_time or 0
    samples: dict[int | None, float] = {}
    for index in range(LUMINANCE_SAMPLE_COUNT):
        target_sec = duration_sec * (index + 0.5) / LUMINANCE_SAMPLE_COUNT
        try:
            container.seek(start_pts + int(target_sec / stream.time_base), stream=stream, backward=True)
        except _PYAV_ERRORS:
            # An unseekable file is still usable; measure what was reached.
            break
        frame = next(container.decode(stream), None)
        if frame is None:
            continue
        _check_frame_dimensions(frame, max_side_px)
        # Sparse keyframes make several seeks land on the same frame; count each frame once.
        samples.setdefault(frame.pts, _frame_luminance(frame))
    if not samples:
        return _frame_luminance(first_frame)
    return sum(samples.values()) / len(samples)
