"""The hook's audio: decoded, trimmed to the exact sample, resampled to stereo at 44.1 or 48 kHz."""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from casset.media.magic import AUDIO_CONTAINERS, DEMUXER_BY_CONTAINER, HEAD_BYTES, sniff
from casset.media.render.errors import AUDIO_UNREADABLE, HOOK_OUT_OF_RANGE, RenderError

OUTPUT_RATES = (44_100, 48_000)
DEFAULT_OUTPUT_RATE = 48_000
FADE_SEC = 0.075
AAC_FRAME_SAMPLES = 1024
# A hook may end this far past the last decoded sample (rounding of the track's duration); the gap is
# filled with silence.
END_TOLERANCE_SEC = 0.05
# Containers whose seeks land on exact timestamps. Raw MP3 and ADTS seek by byte-rate estimates, so
# those are decoded from the start (audio decodes at hundreds of times real time).
_EXACT_SEEK_CONTAINERS = frozenset({"isobmff", "ebml", "flac", "wav", "ogg"})
_SEEK_PREROLL_SEC = 1.0
_SEEK_LANDING_TOLERANCE_SEC = 0.005
_HEADER_DURATION_SLACK_SEC = 0.5
_PYAV_ERRORS = (av.error.FFmpegError, OSError, ValueError)


@dataclass(frozen=True)
class HookAudio:
    samples: np.ndarray  # (2, n) float32 in -1..1
    sample_rate: int

    @property
    def duration_sec(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    def faded(self) -> np.ndarray:
        """The samples with short raised-cosine fades in and out, so the cut never clicks."""
        samples = self.samples.copy()
        length = min(round(FADE_SEC * self.sample_rate), samples.shape[1] // 2)
        if length:
            ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, length))).astype(np.float32)
            samples[:, :length] *= ramp
            samples[:, samples.shape[1] - length :] *= ramp[::-1]
        return samples


def load_hook(path: str, start_sec: float, duration_sec: float) -> HookAudio:
    """Exactly [start, start + duration) of the track. Raises RenderError when it cannot be had."""
    container_kind = _container_kind(path)
    try:
        with av.open(path, mode="r", format=DEMUXER_BY_CONTAINER[container_kind]) as container:
            stream = _audio_stream(container)
            known = _known_duration_sec(container, stream)
            # Header durations of some formats are estimates, so this early check is lenient; the
            # decoded samples settle it exactly.
            if known is not None and start_sec + duration_sec > known + _HEADER_DURATION_SLACK_SEC:
                raise RenderError(
                    HOOK_OUT_OF_RANGE,
                    f"The hook ends at {start_sec + duration_sec:.2f} s; the track lasts {known:.2f} s.",
                )
            source_rate = stream.codec_context.sample_rate or DEFAULT_OUTPUT_RATE
            rate = source_rate if source_rate in OUTPUT_RATES else DEFAULT_OUTPUT_RATE
            seek = container_kind in _EXACT_SEEK_CONTAINERS and start_sec > _SEEK_PREROLL_SEC
            samples = _decode_range(container, stream, start_sec, duration_sec, rate, seek=seek)
            if samples is None:  # the seek landed after the hook's start: decode from the beginning
                container.seek(0)
                samples = _decode_range(container, stream, start_sec, duration_sec, rate, seek=False)
    except RenderError:
        raise
    except _PYAV_ERRORS as error:
        raise RenderError(AUDIO_UNREADABLE, f"The audio cannot be decoded: {_describe(error)}.") from error
    if samples is None:
        raise RenderError(AUDIO_UNREADABLE, "The audio's timestamps are unusable.")
    return HookAudio(samples, rate)


class AacEncoding:
    """The hook's audio encoded to AAC on a worker thread, into an in-memory MP4 the render remuxes.

    Encoding runs while the spectrum, the overlays and the visual get ready (AAC costs about a second
    of CPU for 30 s of stereo; the encoder releases the GIL), and the packets serve every render
    attempt, a fallback re-render included.
    """

    def __init__(self, audio: HookAudio, bitrate: int) -> None:
        self._audio = audio
        self._bitrate = bitrate
        self._encoded: bytes | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="aac-encoder", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> bytes:
        """The MP4 bytes, waiting for the encoder if need be. Raises what the encoder raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._encoded is not None
        return self._encoded

    def _run(self) -> None:
        try:
            buffer = io.BytesIO()
            samples, rate = self._audio.samples, self._audio.sample_rate
            with av.open(buffer, mode="w", format="mp4") as output:
                stream = output.add_stream("aac", rate=rate, layout="stereo")
                stream.codec_context.bit_rate = self._bitrate
                for frame in aac_frames(samples, rate, 0, samples.shape[1]):
                    output.mux(stream.encode(frame))
                output.mux(stream.encode(None))
            self._encoded = buffer.getvalue()
        except BaseException as error:  # handed to the caller by result()
            self._error = error


def aac_frames(samples: np.ndarray, sample_rate: int, start: int, stop: int) -> Iterator[AudioFrame]:
    """Encoder-sized stereo frames covering samples [start, stop), timestamped in samples."""
    for offset in range(start, stop, AAC_FRAME_SAMPLES):
        chunk = np.ascontiguousarray(samples[:, offset : min(stop, offset + AAC_FRAME_SAMPLES)])
        frame = AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = sample_rate
        frame.pts = offset
        frame.time_base = Fraction(1, sample_rate)
        yield frame


def _container_kind(path: str) -> str:
    try:
        with open(path, "rb") as file:
            kind = sniff(file.read(HEAD_BYTES))
    except OSError as error:
        raise RenderError(AUDIO_UNREADABLE, f"The audio file cannot be read: {_describe(error)}.") from error
    if kind not in AUDIO_CONTAINERS:
        raise RenderError(
            AUDIO_UNREADABLE, f"Expected an audio container, found {kind or 'unrecognised data'}."
        )
    return kind


def _audio_stream(container: InputContainer) -> AudioStream:
    for stream in container.streams.audio:
        if stream.codec_context is not None:
            return stream
    raise RenderError(AUDIO_UNREADABLE, "The file has no decodable audio stream.")


def _known_duration_sec(container: InputContainer, stream: AudioStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        return container.duration / av.time_base
    return None


def _stream_start_sec(stream: AudioStream) -> float:
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _decode_range(
    container: InputContainer,
    stream: AudioStream,
    start_sec: float,
    duration_sec: float,
    rate: int,
    *,
    seek: bool,
) -> np.ndarray | None:
    """Decode and resample until the hook is covered. None when decoding began after the hook's start.

    Times are on the track's own timeline (0 = its first sample, as the player shows it). The
    resampler's output is contiguous, so the first decoded frame's time anchors every output sample.
    """
    origin = _stream_start_sec(stream)
    if seek:
        target = origin + start_sec - _SEEK_PREROLL_SEC
        container.seek(int(target / stream.time_base), stream=stream, backward=True)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
    wanted = round(duration_sec * rate)
    chunks: list[np.ndarray] = []
    collected = 0
    anchor_sec: float | None = None
    next_time = origin
    stop_sec = start_sec + duration_sec
    decoded_any = False
    for frame in container.decode(stream):
        decoded_any = True
        frame_time = float(frame.time) if frame.time is not None else next_time
        next_time = frame_time + frame.samples / (frame.sample_rate or rate)
        if anchor_sec is None:
            if next_time - origin < start_sec - _SEEK_PREROLL_SEC:
                continue  # well before the hook: skip resampling it
            anchor_sec = frame_time - origin
            if seek and anchor_sec > start_sec + _SEEK_LANDING_TOLERANCE_SEC:
                return None
        for resampled in resampler.resample(frame):
            chunk = resampled.to_ndarray()
            chunks.append(chunk)
            collected += chunk.shape[1]
        if anchor_sec + collected / rate >= stop_sec + 0.1:
            break
    else:
        for resampled in resampler.resample(None):
            chunk = resampled.to_ndarray()
            chunks.append(chunk)
            collected += chunk.shape[1]
    if not decoded_any:
        if seek:
            return None  # sought past the end, perhaps: decoding from the start settles it
        raise RenderError(AUDIO_UNREADABLE, "No audio could be decoded.")
    if anchor_sec is None:
        anchor_sec = start_sec  # every frame ended before the hook: the range check below reports it
    decoded = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), dtype=np.float32)
    offset = round((start_sec - anchor_sec) * rate)
    if offset < 0:  # the track's first sample comes a little after its nominal start
        decoded = np.pad(decoded, ((0, 0), (-offset, 0)))
        offset = 0
    hook = decoded[:, offset : offset + wanted]
    missing = wanted - hook.shape[1]
    if missing > END_TOLERANCE_SEC * rate:
        available = anchor_sec + decoded.shape[1] / rate
        raise RenderError(
            HOOK_OUT_OF_RANGE, f"The hook ends at {stop_sec:.2f} s; the audio ends at {available:.2f} s."
        )
    if missing:
        hook = np.pad(hook, ((0, 0), (0, missing)))
    return np.ascontiguousarray(hook, dtype=np.float32)


def _describe(error: Exception) -> str:
    return getattr(error, "strerror", None) or type(error).__name__
