"""Container sniffing from the first bytes of an upload."""

from __future__ import annotations

import pytest

from casset.media.magic import AUDIO_CONTAINERS, HEAD_BYTES, IMAGE_CONTAINERS, VIDEO_CONTAINERS, sniff
from tests import media_factory

MP4_HEAD = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
MOV_HEAD = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "
M4A_HEAD = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A isomiso2"
EBML_HEAD = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01webm"
MPEG1_LAYER3_FRAME = b"\xff\xfb\x90\x64"  # 128 kbit/s, 44.1 kHz
MPEG2_LAYER3_FRAME = b"\xff\xf3\x64\xc4"
ADTS_MPEG4_FRAME = b"\xff\xf1\x50\x80\x02\x1f\xfc"
ADTS_MPEG2_FRAME = b"\xff\xf9\x50\x80\x02\x1f\xfc"
WAV_HEAD = b"RIFF\x24\x08\x00\x00WAVEfmt "
WEBP_HEAD = b"RIFF\x24\x08\x00\x00WEBPVP8 "
AVI_HEAD = b"RIFF\x24\x08\x00\x00AVI LIST"
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (MP4_HEAD, "isobmff"),
        (MOV_HEAD, "isobmff"),
        (M4A_HEAD, "isobmff"),
        (EBML_HEAD, "ebml"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00", "mp3"),
        (MPEG1_LAYER3_FRAME, "mp3"),
        (MPEG2_LAYER3_FRAME, "mp3"),
        (ADTS_MPEG4_FRAME, "adts"),
        (ADTS_MPEG2_FRAME, "adts"),
        (WAV_HEAD, "wav"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02\x00\x00", "ogg"),
        (JPEG_HEAD, "jpeg"),
        (PNG_HEAD, "png"),
        (WEBP_HEAD, "webp"),
    ],
)
def test_sniff_names_the_container_its_magic_bytes_announce(head: bytes, expected: str) -> None:
    # Given the first bytes of a file of a known kind
    # When they are sniffed
    container = sniff(head)
    # Then the container family is named
    assert container == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x00\x00\x00",
        b"hello, this is a text file\n",
        AVI_HEAD,
        b"\xff\xe0\x90\x64",  # 11-bit sync, MPEG-2.5, layer 00: MPEG reserves the layer, ADTS needs 12 bits
        b"\xff\xfb\xf0\x64",  # MP3 frame sync with the forbidden bitrate index 1111
        b"\xff\xfb\x9c\x64",  # MP3 frame sync with the reserved sample-rate index 11
        b"\xff\xf1\x3c\x80",  # ADTS sync with a sampling-frequency index beyond the table
        b"\x00\x00\x00\x20ftxp",
    ],
)
def test_sniff_returns_none_for_unrecognised_bytes(head: bytes) -> None:
    # Given bytes that match no supported container's signature
    # When they are sniffed
    container = sniff(head)
    # Then nothing is claimed
    assert container is None


def test_adts_and_mp3_frame_syncs_are_told_apart_by_the_layer_bits() -> None:
    # Given an ADTS header (layer 00) and an MPEG audio header (layer 01) sharing the sync word
    adts, mpeg = b"\xff\xf1\x50\x80", b"\xff\xf3\x64\xc4"
    # When both are sniffed
    # Then each is named for what it is
    assert (sniff(adts), sniff(mpeg)) == ("adts", "mp3")


def test_head_bytes_is_enough_to_cover_every_signature() -> None:
    # Given the longest signature checked (RIFF type at bytes 8..12)
    # Then callers reading HEAD_BYTES give sniff all it needs
    assert HEAD_BYTES >= 12


def test_container_families_split_into_video_audio_and_image() -> None:
    # Given the published container sets
    # Then every video container can also carry audio, and images overlap with neither
    assert VIDEO_CONTAINERS <= AUDIO_CONTAINERS
    assert not IMAGE_CONTAINERS & AUDIO_CONTAINERS
    assert {"isobmff", "ebml"} == VIDEO_CONTAINERS


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("clip.mp4", "isobmff"), ("clip.mov", "isobmff"), ("clip.webm", "ebml")],
)
def test_sniff_recognises_videos_written_by_ffmpeg(tmp_path, filename: str, expected: str) -> None:
    # Given a video file FFmpeg wrote
    path = media_factory.make_video(tmp_path / filename, seconds=0.25, width=32, height=32, fps=8)
    # When its head is sniffed
    container = sniff(path.read_bytes()[:HEAD_BYTES])
    # Then it is recognised as a video container
    assert container == expected
    assert container in VIDEO_CONTAINERS


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("tone.mp3", "mp3"),
        ("tone.wav", "wav"),
        ("tone.m4a", "isobmff"),
        ("tone.flac", "flac"),
        ("tone.ogg", "ogg"),
        ("tone.aac", "adts"),
    ],
)
def test_sniff_recognises_audio_written_by_ffmpeg(tmp_path, filename: str, expected: str) -> None:
    # Given an audio file FFmpeg wrote
    path = media_factory.make_audio(tmp_path / filename, seconds=0.5, sample_rate=48000)
    # When its head is sniffed
    container = sniff(path.read_bytes()[:HEAD_BYTES])
    # Then it is recognised as an audio container
    assert container == expected
    assert container in AUDIO_CONTAINERS
