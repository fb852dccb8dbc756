"""Generate small media files with PyAV so the test suite ships no binaries."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.stream import Disposition
from av.video.stream import VideoStream

_CONTAINER_BY_SUFFIX = {
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".mov": "mov",
    ".webm": "webm",
    ".mkv": "matroska",
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".aac": "adts",
}

_DEFAULT_VIDEO_CODEC = {"webm": "libvpx-vp9"}
_DEFAULT_AUDIO_CODEC = {"webm": "libopus", "matroska": "libopus"}

_FAST_ENCODER_OPTIONS = {
    "libx264": {"preset": "ultrafast", "crf": "35"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"},
}

_AUDIO_CODECS_BY_SUFFIX = {
    ".mp3": ("libmp3lame",),
    ".wav": ("pcm_s16le",),
    ".m4a": ("aac",),
    ".flac": ("flac",),
    ".ogg": ("libvorbis", "libopus"),
    ".aac": ("aac",),
}

_OPUS_SAMPLE_RATES = frozenset({8000, 12000, 16000, 24000, 48000})
_AUDIO_FRAME_SAMPLES = 1024

_IDENTITY_MATRIX = (0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
_TKHD_MATRIX_OFFSET_BY_VERSION = {0: 40, 1: 52}
_FIXED_16_16_ONE = 0x00010000

_EBML_DEFAULT_DURATION_ID = b"\x23\xe3\x83"
_EBML_VOID_ID = b"\xec"
_JPEG_START = b"\xff\xd8"
_JPEG_END = b"\xff\xd9"


def make_video(
    path: str | os.PathLike[str],
    *,
    seconds: float = 2.0,
    width: int = 180,
    height: int = 320,
    fps: int = 24,
    codec: str | None = None,
    container: str | None = None,
    brightness: float = 0.5,
    with_audio: bool = False,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode a clip of roughly `brightness` luminance with a bar sweeping across it.

    `codec` defaults to libx264, or libvpx-vp9 for WebM; `container` defaults to the one the suffix names.
    """
    path = Path(path)
    container_format = container or _CONTAINER_BY_SUFFIX[path.suffix.lower()]
    video_codec = codec or _DEFAULT_VIDEO_CODEC.get(container_format, "libx264")
    frame_count = max(1, round(seconds * fps))
    with av.open(
        str(path), mode="w", format=container_format, container_options=container_options or {}
    ) as output:
        encoder_options = _FAST_ENCODER_OPTIONS.get(video_codec)
        video = output.add_stream(video_codec, rate=Fraction(fps), options=encoder_options)
        assert isinstance(video, VideoStream)
        video.width = width
        video.height = height
        video.pix_fmt = "yuvj420p" if video_codec == "mjpeg" else "yuv420p"
        audio = None
        if with_audio:
            audio_codec = _DEFAULT_AUDIO_CODEC.get(container_format, "aac")
            audio = output.add_stream(audio_codec, rate=48000, layout="stereo")
        for index in range(frame_count):
            pixels = _video_frame_pixels(index, frame_count, width, height, brightness)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        if isinstance(audio, AudioStream):
            _encode_sine(output, audio, seconds=frame_count / fps, channels=2, freq=440.0)
    return path


def make_audio(
    path: str | os.PathLike[str],
    *,
    seconds: float = 3.0,
    sample_rate: int = 44100,
    channels: int = 2,
    freq: float = 440.0,
) -> Path:
    """Encode a sine tone in the format the suffix names (.mp3 .wav .m4a .flac .ogg .aac).

    Skips the calling test when this FFmpeg build has no encoder for the format.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    codec_name = _first_available_encoder(_AUDIO_CODECS_BY_SUFFIX[suffix])
    if codec_name is None:
        pytest.skip(f"no encoder for {suffix} in this FFmpeg build")
    if codec_name == "libopus" and sample_rate not in _OPUS_SAMPLE_RATES:
        pytest.skip(f"libopus cannot encode at {sample_rate} Hz")
    return _write_tone(
        path,
        container_format=_CONTAINER_BY_SUFFIX[suffix],
        codec_name=codec_name,
        seconds=seconds,
        sample_rate=sample_rate,
        channels=channels,
        freq=freq,
    )


def make_mp3_without_xing(path: str | os.PathLike[str], *, seconds: float = 6.0) -> Path:
    """A CBR MP3 with no Xing/Info frame (what `-write_xing 0` and many streaming encoders write): its
    length is in no header, so FFmpeg estimates it from the bitrate."""
    path = Path(path)
    with av.open(str(path), mode="w", format="mp3", container_options={"write_xing": "0"}) as output:
        stream = output.add_stream("libmp3lame", rate=44100, layout="stereo")
        assert isinstance(stream, AudioStream)
        _encode_sine(output, stream, seconds=seconds, channels=2, freq=440.0)
    return path


def make_quiet_intro_audio(
    path: str | os.PathLike[str], *, seconds: float = 8.0, quiet_intro_sec: float = 1.0, xing: bool = False
) -> Path:
    """Silence (the smallest frames), then noise (the largest): a VBR MP3 (LAME -V0; a Xing frame only
    when `xing`) or, for .aac, raw ADTS AAC. Without a frame count FFmpeg extrapolates the opening
    bitrate: such a file is estimated at several times its real length."""
    path = Path(path)
    mp3 = path.suffix.lower() == ".mp3"
    rate = 44100
    noise = np.random.default_rng(seed=11)
    options = {} if xing or not mp3 else {"write_xing": "0"}
    with av.open(str(path), mode="w", format="mp3" if mp3 else "adts", container_options=options) as output:
        stream = output.add_stream("libmp3lame" if mp3 else "aac", rate=rate, layout="stereo")
        assert isinstance(stream, AudioStream)
        if mp3:
            stream.codec_context.qscale = True  # VBR: LAME's quality scale instead of a bitrate
            stream.codec_context.global_quality = 0  # -V0
        total = round(seconds * rate)
        for start in range(0, total, _AUDIO_FRAME_SAMPLES):
            count = min(_AUDIO_FRAME_SAMPLES, total - start)
            if start < quiet_intro_sec * rate:
                samples = np.zeros((2, count), dtype=np.float32)
            else:
                samples = (0.3 * noise.standard_normal((2, count))).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
            frame.sample_rate = rate
            frame.pts = start
            frame.time_base = Fraction(1, rate)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return path


def decoded_duration_sec(path: str | os.PathLike[str]) -> float:
    """The length a decoder really outputs: every sample decoded and counted (slow, for assertions)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(stream))
        return samples / stream.codec_context.sample_rate


def make_m4a_corrupt_after(
    path: str | os.PathLike[str], *, seconds: float = 8.0, intact_sec: float = 2.0
) -> Path:
    """An AAC M4A whose samples after `intact_sec` are noise: it opens and its first frames decode (the
    probe accepts it), but decoding further in fails."""
    path = make_audio(path, seconds=seconds)
    data = bytearray(path.read_bytes())
    for box_type, payload_start, box_end in _iter_boxes(data, 0, len(data)):
        if box_type == b"mdat":
            damaged_from = payload_start + round((box_end - payload_start) * intact_sec / seconds)
            noise = np.random.default_rng(seed=5).integers(0, 256, box_end - damaged_from, dtype=np.uint8)
            data[damaged_from:box_end] = noise.tobytes()
    path.write_bytes(bytes(data))
    return path


def make_audio_only_mp4(path: str | os.PathLike[str], seconds: float = 2.0) -> Path:
    """An MP4 whose only stream is AAC: valid media, but not a visual."""
    return _write_tone(
        Path(path), container_format="mp4", codec_name="aac", seconds=seconds, sample_rate=44100, channels=2
    )


def make_m4a_with_cover_art(path: str | os.PathLike[str], seconds: float = 1.0) -> Path:
    """An AAC track with album art, which FFmpeg exposes as a one-frame video stream flagged attached_pic."""
    path = Path(path)
    with av.open(str(path), mode="w", format="mp4") as output:
        audio = output.add_stream("aac", rate=44100, layout="stereo")
        cover = output.add_mux_stream("mjpeg", width=64, height=64)
        cover.disposition = Disposition.attached_pic
        cover_packet = av.Packet(_jpeg_bytes(64, 64))
        cover_packet.stream = cover
        cover_packet.pts = cover_packet.dts = 0
        output.mux(cover_packet)
        assert isinstance(audio, AudioStream)
        _encode_sine(output, audio, seconds=seconds, channels=2, freq=440.0)
    return path


def make_corrupt_mp4(path: str | os.PathLike[str]) -> Path:
    """A genuine `ftyp` box followed by noise: passes magic sniffing, but no demuxer can use it."""
    path = Path(path)
    ftyp_payload = b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41"
    ftyp_box = struct.pack(">I", 8 + len(ftyp_payload)) + b"ftyp" + ftyp_payload
    noise = np.random.default_rng(seed=7).integers(0, 256, size=4096, dtype=np.uint8).tobytes()
    path.write_bytes(ftyp_box + noise)
    return path


def make_mp4_with_undecodable_frames(path: str | os.PathLike[str]) -> Path:
    """A well-formed MP4 whose sample data is zeroed: the container opens, no frame decodes."""
    path = Path(path)
    make_video(path, seconds=0.5, width=64, height=64, fps=8)
    data = bytearray(path.read_bytes())
    for box_type, payload_start, box_end in _iter_boxes(data, 0, len(data)):
        if box_type == b"mdat":
            data[payload_start:box_end] = bytes(box_end - payload_start)
    path.write_bytes(bytes(data))
    return path


def make_live_webm(path: str | os.PathLike[str], *, seconds: float = 2.0) -> Path:
    """A WebM written the way browsers' MediaRecorder writes it: no duration in any header."""
    return make_video(path, seconds=seconds, width=64, height=64, container_options={"live": "1"})


def make_webm_without_any_duration(path: str | os.PathLike[str]) -> Path:
    """A one-frame live WebM that also lacks DefaultDuration, so not even its packets span any time."""
    path = make_video(path, seconds=0.04, width=16, height=16, fps=25, container_options={"live": "1"})
    data = bytearray(path.read_bytes())
    start = data.find(_EBML_DEFAULT_DURATION_ID)
    if start < 0:
        raise ValueError("no DefaultDuration element found")
    size_byte = data[start + len(_EBML_DEFAULT_DURATION_ID)]
    if not size_byte & 0x80:
        raise ValueError("the DefaultDuration element's size is not a one-byte vint")
    element_length = len(_EBML_DEFAULT_DURATION_ID) + 1 + (size_byte & 0x7F)
    data[start : start + element_length] = _ebml_void(element_length)
    path.write_bytes(bytes(data))
    return path


def make_mkv_without_dimensions(path: str | os.PathLike[str]) -> Path:
    """A Matroska MJPEG clip whose track says 0x0 and whose frames are blanked, so nothing reveals a size."""
    path = make_video(path, seconds=0.125, width=16, height=16, codec="mjpeg")
    data = bytearray(path.read_bytes())
    pixel_size = b"\xb0\x81\x10\xba\x81\x10"  # PixelWidth 16, PixelHeight 16
    start = data.find(pixel_size)
    if start < 0:
        raise ValueError("no PixelWidth/PixelHeight pair of 16x16 found")
    data[start : start + len(pixel_size)] = b"\xb0\x81\x00\xba\x81\x00"
    position = 0
    while (jpeg_start := data.find(_JPEG_START, position)) >= 0:
        end_marker = data.find(_JPEG_END, jpeg_start)
        if end_marker < 0:
            raise ValueError("a JPEG frame has no end marker")
        jpeg_end = end_marker + len(_JPEG_END)
        data[jpeg_start:jpeg_end] = bytes(jpeg_end - jpeg_start)
        position = jpeg_end
    path.write_bytes(bytes(data))
    return path


def set_mp4_rotation(path: str | os.PathLike[str], degrees: int) -> Path:
    """Rewrite the video track's tkhd display matrix in place so players rotate it `degrees` clockwise."""
    path = Path(path)
    if degrees % 90:
        raise ValueError(f"rotation must be a multiple of 90, got {degrees}")
    data = bytearray(path.read_bytes())
    tkhd_payload_start = _video_tkhd_payload_start(data)
    version = data[tkhd_payload_start]
    matrix_start = tkhd_payload_start + _TKHD_MATRIX_OFFSET_BY_VERSION[version]
    width, height = (
        value >> 16 for value in struct.unpack_from(">II", data, matrix_start + len(_IDENTITY_MATRIX) * 4)
    )
    matrix = _clockwise_rotation_matrix(degrees % 360, width, height)
    struct.pack_into(">9i", data, matrix_start, *matrix)
    path.write_bytes(bytes(data))
    return path


def _video_frame_pixels(
    index: int, frame_count: int, width: int, height: int, brightness: float
) -> np.ndarray:
    base = round(np.clip(brightness, 0.0, 1.0) * 255)
    pixels = np.full((height, width, 3), base, dtype=np.uint8)
    # A faint moving bar keeps the encoder honest (frames differ) without moving the mean luminance far.
    bar_width = max(2, width // 8)
    bar_start = (index * width) // max(1, frame_count) % width
    bar_value = base - 40 if base > 127 else base + 40
    pixels[:, bar_start : bar_start + bar_width, :] = bar_value
    return pixels


def _write_tone(
    path: Path,
    *,
    container_format: str,
    codec_name: str,
    seconds: float,
    sample_rate: int,
    channels: int,
    freq: float = 440.0,
) -> Path:
    with av.open(str(path), mode="w", format=container_format) as output:
        stream = output.add_stream(codec_name, rate=sample_rate, layout=_layout_name(channels))
        assert isinstance(stream, AudioStream)
        _encode_sine(output, stream, seconds=seconds, channels=channels, freq=freq)
    return path


def _encode_sine(
    output: av.container.OutputContainer,
    stream: AudioStream,
    *,
    seconds: float,
    channels: int,
    freq: float,
) -> None:
    sample_rate = stream.codec_context.sample_rate
    total_samples = round(seconds * sample_rate)
    layout = _layout_name(channels)
    for start in range(0, total_samples, _AUDIO_FRAME_SAMPLES):
        count = min(_AUDIO_FRAME_SAMPLES, total_samples - start)
        times = (np.arange(start, start + count) / sample_rate).astype(np.float32)
        tone = (0.4 * np.sin(2 * np.pi * freq * times)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.tile(tone, (channels, 1)), format="fltp", layout=layout)
        frame.sample_rate = sample_rate
        frame.pts = start
        frame.time_base = Fraction(1, sample_rate)
        output.mux(stream.encode(frame))
    output.mux(stream.encode(None))


def _jpeg_bytes(width: int, height: int) -> bytes:
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width = width
    encoder.height = height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 1)
    grey = av.VideoFrame.from_ndarray(np.full((height, width, 3), 200, dtype=np.uint8), format="rgb24")
    packets = [*encoder.encode(grey.reformat(format="yuvj420p")), *encoder.encode(None)]
    return b"".join(bytes(packet) for packet in packets)


def _ebml_void(length: int) -> bytes:
    payload_length = length - len(_EBML_VOID_ID) - 1
    return _EBML_VOID_ID + bytes([0x80 | payload_length]) + bytes(payload_length)


def _layout_name(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels}c")


def _first_available_encoder(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        try:
            av.Codec(name, "w")
        except av.codec.codec.UnknownCodecError:
            continue
        return name
    return None


def _clockwise_rotation_matrix(degrees: int, width: int, height: int) -> tuple[int, ...]:
    one = _FIXED_16_16_ONE
    a, b, c, d, tx, ty = {
        0: (1, 0, 0, 1, 0, 0),
        90: (0, 1, -1, 0, height, 0),
        180: (-1, 0, 0, -1, width, height),
        270: (0, -1, 1, 0, 0, width),
    }[degrees]
    return (a * one, b * one, 0, c * one, d * one, 0, tx * one, ty * one, _IDENTITY_MATRIX[-1])


def _video_tkhd_payload_start(data: bytearray) -> int:
    for moov_type, moov_start, moov_end in _iter_boxes(data, 0, len(data)):
        if moov_type != b"moov":
            continue
        for trak_type, trak_start, trak_end in _iter_boxes(data, moov_start, moov_end):
            if trak_type != b"trak":
                continue
            tkhd_start = None
            handler = None
            for child_type, child_start, child_end in _iter_boxes(data, trak_start, trak_end):
                if child_type == b"tkhd":
                    tkhd_start = child_start
                elif child_type == b"mdia":
                    handler = _handler_type(data, child_start, child_end)
            if handler == b"vide" and tkhd_start is not None:
                return tkhd_start
    raise ValueError("no video track header found in the file")


def _handler_type(data: bytearray, mdia_start: int, mdia_end: int) -> bytes | None:
    for child_type, child_start, _ in _iter_boxes(data, mdia_start, mdia_end):
        if child_type == b"hdlr":
            # version/flags (4) and pre_defined (4) precede the handler type.
            return bytes(data[child_start + 8 : child_start + 12])
    return None


def _iter_boxes(data: bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, payload start, box end) for each ISO BMFF box between `start` and `end`."""
    position = start
    while position + 8 <= end:
        size, box_type = struct.unpack_from(">I4s", data, position)
        header_size = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header_size = 16
        elif size == 0:
            size = end - position
        if size < header_size or position + size > end:
            return
        yield box_type, position + header_size, position + size
        position += size
