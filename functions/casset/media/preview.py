"""Cut the hook out of a track as a small AAC clip (M4A): what fans without a purchase hear.

A pure function of a local path: decode from the hook's start, keep exactly the hook's samples, encode
AAC at PREVIEW_BITRATE with short fades so the clip does not click in and out. PyAV only, no AWS."""

import io
import os
from fractions import Fraction

import av
import av.error
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler

from casset.media.probe import ProbeRejected

PREVIEW_SAMPLE_RATE = 44_100
PREVIEW_BITRATE = 128_000
FADE_SEC = 0.05
_CHUNK = 1024  # AAC's frame size


def cut_preview(path: str | os.PathLike[str], start_sec: float, duration_sec: float) -> bytes:
    """The M4A bytes of [start_sec, start_sec + duration_sec) of the audio at path (stereo, 44.1 kHz).
    Raises ProbeRejected("CORRUPT", ...) when the audio cannot be decoded there."""
    wanted = round(duration_sec * PREVIEW_SAMPLE_RATE)
    try:
        samples = _decode_range(path, start_sec, wanted)
    except (av.error.FFmpegError, OSError, ValueError) as error:
        raise ProbeRejected("CORRUPT", "The audio cannot be decoded for the preview.") from error
    if samples.shape[1] == 0:
        raise ProbeRejected("CORRUPT", "The hook range holds no audio.")
    return _encode(_faded(samples))


def _decode_range(path: str | os.PathLike[str], start_sec: float, wanted: int) -> np.ndarray:
    resampler = AudioResampler(format="fltp", layout="stereo", rate=PREVIEW_SAMPLE_RATE)
    start_sample = round(start_sec * PREVIEW_SAMPLE_RATE)
    kept: list[np.ndarray] = []
    have = 0
    with av.open(os.fspath(path)) as container:
        stream = container.streams.audio[0]
        if start_sec > 0:
            # Seek to a point before the hook; samples ahead of it are dropped by position below.
            container.seek(int(max(0.0, start_sec - 1.0) / av.time_base), backward=True)
        position: int | None = None
        for frame in container.decode(stream):
            for converted in resampler.resample(frame):
                if position is None:
                    position = (
                        round((converted.time or 0.0) * PREVIEW_SAMPLE_RATE)
                        if converted.time is not None
                        else 0
                    )
                data = converted.to_ndarray()
                begin = max(0, start_sample - position)
                position += data.shape[1]
                if begin < data.shape[1]:
                    kept.append(data[:, begin:])
                    have += data.shape[1] - begin
            if have >= wanted:
                break
    if not kept:
        return np.zeros((2, 0), dtype=np.float32)
    return np.concatenate(kept, axis=1)[:, :wanted].astype(np.float32)


def _faded(samples: np.ndarray) -> np.ndarray:
    fade = min(int(FADE_SEC * PREVIEW_SAMPLE_RATE), samples.shape[1] // 2)
    if fade > 0:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples = samples.copy()
        samples[:, :fade] *= ramp
        samples[:, -fade:] *= ramp[::-1]
    return samples


def _encode(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="ipod") as output:
        stream = output.add_stream("aac", rate=PREVIEW_SAMPLE_RATE)
        stream.bit_rate = PREVIEW_BITRATE
        stream.layout = "stereo"
        stream.time_base = Fraction(1, PREVIEW_SAMPLE_RATE)
        for offset in range(0, samples.shape[1], _CHUNK):
            chunk = np.ascontiguousarray(samples[:, offset : offset + _CHUNK])
            frame = AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate = PREVIEW_SAMPLE_RATE
            frame.pts = offset
            frame.time_base = Fraction(1, PREVIEW_SAMPLE_RATE)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return buffer.getvalue()
