"""Identify a media container from its first bytes, before any decoder sees the file."""

from __future__ import annotations

HEAD_BYTES = 64

VIDEO_CONTAINERS = frozenset({"isobmff", "ebml"})
AUDIO_CONTAINERS = frozenset({"isobmff", "ebml", "mp3", "adts", "wav", "flac", "ogg"})
IMAGE_CONTAINERS = frozenset({"jpeg", "png", "webp"})
# The FFmpeg demuxer for each container. Opening with the demuxer the magic bytes named stops FFmpeg's
# format probing from picking something else (a playlist or concat script could make it open other files).
DEMUXER_BY_CONTAINER = {
    "isobmff": "mov",
    "ebml": "matroska",
    "mp3": "mp3",
    "adts": "aac",
    "wav": "wav",
    "flac": "flac",
    "ogg": "ogg",
}

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"

_MPEG_VERSION_RESERVED = 0b01
_MPEG_LAYER_RESERVED = 0b00
_MPEG_BITRATE_BAD = 0b1111
_MPEG_SAMPLE_RATE_RESERVED = 0b11
_ADTS_SAMPLING_INDEX_COUNT = 13


def sniff(head: bytes) -> str | None:
    """Return the container family of a file whose first bytes are `head`, or None if unrecognised."""
    if len(head) >= 8 and head[4:8] == b"ftyp":
        return "isobmff"
    if head.startswith(_EBML_MAGIC):
        return "ebml"
    if len(head) >= 12 and head.startswith(b"RIFF"):
        riff_type = head[8:12]
        if riff_type == b"WAVE":
            return "wav"
        if riff_type == b"WEBP":
            return "webp"
        return None
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(_PNG_MAGIC):
        return "png"
    if head.startswith(_JPEG_MAGIC):
        return "jpeg"
    if head.startswith(b"ID3"):
        return "mp3"
    if _is_adts_header(head):
        return "adts"
    if _is_mpeg_audio_frame_header(head):
        return "mp3"
    return None


def _is_adts_header(head: bytes) -> bool:
    # ADTS reuses the MPEG audio sync word but always carries layer 00, which MPEG audio reserves.
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xF6 != 0xF0:
        return False
    sampling_index = (head[2] >> 2) & 0x0F
    return sampling_index < _ADTS_SAMPLING_INDEX_COUNT


def _is_mpeg_audio_frame_header(head: bytes) -> bool:
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate_index = head[2] >> 4
    sample_rate_index = (head[2] >> 2) & 0b11
    return (
        version != _MPEG_VERSION_RESERVED
        and layer != _MPEG_LAYER_RESERVED
        and bitrate_index != _MPEG_BITRATE_BAD
        and sample_rate_index != _MPEG_SAMPLE_RATE_RESERVED
    )
