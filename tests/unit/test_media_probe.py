"""Probing uploaded visuals and audio with PyAV: what is measured, and every reason a file is refused."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from casset.media.probe import ProbeRejected, VideoProbe, probe_audio, probe_video
from tests import media_factory

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@pytest.fixture(scope="module")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def portrait_mp4(media_dir: Path) -> Path:
    return media_factory.make_video(media_dir / "portrait.mp4", seconds=2.0, width=180, height=320, fps=24)


@pytest.fixture(scope="module")
def portrait_probe(portrait_mp4: Path) -> VideoProbe:
    return probe_video(portrait_mp4)


def rejection_reason(probe, path: Path, **limits) -> str:
    with pytest.raises(ProbeRejected) as rejected:
        probe(path, **limits)
    return rejected.value.reason


def decode_jpeg(data: bytes, tmp_path: Path) -> np.ndarray:
    """The JPEG as a grey image, decoded by PyAV."""
    path = tmp_path / "decoded.jpg"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return frame.to_ndarray(format="gray")


# Accepted visuals: what is measured


def test_a_portrait_mp4_reports_its_size_in_pixels(portrait_probe: VideoProbe) -> None:
    # Given a 180x320 H.264 MP4 with no rotation
    # Then its display size is its coded size
    assert (portrait_probe.width_px, portrait_probe.height_px, portrait_probe.rotation_deg) == (180, 320, 0)


def test_a_clip_reports_its_duration(portrait_probe: VideoProbe) -> None:
    # Given a 2-second clip
    # Then the duration is 2 s
    assert portrait_probe.duration_sec == pytest.approx(2.0, abs=0.05)


def test_a_clip_reports_its_frame_rate_and_codec(portrait_probe: VideoProbe) -> None:
    # Given a 24 fps H.264 clip
    # Then both are reported
    assert (portrait_probe.fps, portrait_probe.codec) == (24.0, "h264")


def test_a_clip_reports_its_size_in_bytes(portrait_mp4: Path, portrait_probe: VideoProbe) -> None:
    assert portrait_probe.size_bytes == portrait_mp4.stat().st_size


def test_the_poster_is_a_jpeg_of_the_upright_frame(portrait_probe: VideoProbe, tmp_path: Path) -> None:
    # Given the probe of a 180x320 clip
    # When its poster is decoded
    poster = decode_jpeg(portrait_probe.poster_jpeg, tmp_path)
    # Then it is a JPEG the size of the frame
    assert portrait_probe.poster_jpeg[:2] == b"\xff\xd8"
    assert poster.shape == (320, 180)


def test_the_poster_of_a_large_clip_is_at_most_720_pixels_on_its_longest_side(tmp_path: Path) -> None:
    # Given a 1440x800 clip
    path = media_factory.make_video(tmp_path / "wide.mp4", seconds=1 / 8, width=1440, height=800, fps=8)
    # When it is probed
    result = probe_video(path)
    # Then the poster is scaled down, keeping its aspect ratio
    assert decode_jpeg(result.poster_jpeg, tmp_path).shape == (400, 720)


@pytest.mark.parametrize("degrees", [90, 270])
def test_a_quarter_turned_mp4_reports_its_display_size_swapped(tmp_path: Path, degrees: int) -> None:
    # Given a 180x320 MP4 whose track header rotates it a quarter turn
    path = media_factory.make_video(tmp_path / "rotated.mp4", seconds=0.5, width=180, height=320, fps=8)
    media_factory.set_mp4_rotation(path, degrees)
    # When it is probed
    result = probe_video(path)
    # Then the rotation is reported and the display size is landscape
    assert (result.rotation_deg, result.width_px, result.height_px) == (degrees, 320, 180)


def test_a_half_turned_mp4_keeps_its_display_size(tmp_path: Path) -> None:
    # Given a 180x320 MP4 rotated 180 degrees
    path = media_factory.make_video(tmp_path / "upside_down.mp4", seconds=0.5, width=180, height=320, fps=8)
    media_factory.set_mp4_rotation(path, 180)
    # When it is probed
    result = probe_video(path)
    # Then the rotation is reported and the size is unchanged
    assert (result.rotation_deg, result.width_px, result.height_px) == (180, 180, 320)


@pytest.mark.parametrize(("degrees", "dark_edge"), [(90, "top"), (270, "bottom")])
def test_the_poster_of_a_rotated_clip_is_turned_upright(tmp_path: Path, degrees: int, dark_edge: str) -> None:
    # Given a portrait clip whose first frame has a dark bar down its left edge, rotated a quarter turn
    path = media_factory.make_video(tmp_path / "rotated.mp4", seconds=0.5, width=180, height=320, fps=8)
    media_factory.set_mp4_rotation(path, degrees)
    # When its poster is decoded
    poster = decode_jpeg(probe_video(path).poster_jpeg, tmp_path)
    # Then the poster is landscape and the bar lies along the edge the rotation carries it to
    top, bottom = poster[:10].mean(), poster[-10:].mean()
    assert poster.shape == (180, 320)
    assert (top < bottom) == (dark_edge == "top")


def test_a_bright_clip_has_a_high_mean_luminance(tmp_path: Path) -> None:
    path = media_factory.make_video(
        tmp_path / "bright.mp4", seconds=1.0, width=64, height=64, fps=8, brightness=0.9
    )
    assert probe_video(path).mean_luminance > 0.7


def test_a_dark_clip_has_a_low_mean_luminance(tmp_path: Path) -> None:
    path = media_factory.make_video(
        tmp_path / "dark.mp4", seconds=1.0, width=64, height=64, fps=8, brightness=0.1
    )
    assert probe_video(path).mean_luminance < 0.3


@pytest.mark.parametrize(("filename", "codec"), [("clip.webm", "vp9"), ("clip.mov", "h264")])
def test_webm_and_mov_clips_are_accepted(tmp_path: Path, filename: str, codec: str) -> None:
    # Given a WebM (VP9) or QuickTime (H.264) clip
    path = media_factory.make_video(tmp_path / filename, seconds=1.0, width=64, height=112, fps=12)
    # When it is probed
    result = probe_video(path)
    # Then it is measured like an MP4
    assert (result.codec, result.width_px, result.height_px, result.fps) == (codec, 64, 112, 12.0)
    assert result.duration_sec == pytest.approx(1.0, abs=0.05)


def test_a_clip_with_a_soundtrack_is_accepted_as_a_visual(tmp_path: Path) -> None:
    path = media_factory.make_video(
        tmp_path / "with_sound.mp4", seconds=1.0, width=64, height=64, with_audio=True
    )
    assert probe_video(path).duration_sec == pytest.approx(1.0, abs=0.05)


def test_a_webm_without_a_duration_header_is_measured_from_its_packets(tmp_path: Path) -> None:
    # Given a WebM written like a browser recording: no duration in any header
    path = media_factory.make_live_webm(tmp_path / "recorded.webm", seconds=2.0)
    # When it is probed
    result = probe_video(path)
    # Then the duration comes from the packet timestamps
    assert result.duration_sec == pytest.approx(2.0, abs=0.05)


def test_a_clip_exactly_at_the_duration_limit_is_accepted(tmp_path: Path) -> None:
    path = media_factory.make_video(tmp_path / "thirty.mp4", seconds=30.0, width=64, height=112, fps=2)
    assert probe_video(path, max_duration_sec=30.0).duration_sec == pytest.approx(30.0, abs=0.05)


# Refused visuals: one reason each


def test_an_empty_file_is_refused_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    assert rejection_reason(probe_video, path) == "EMPTY_FILE"


def test_a_file_over_the_size_limit_is_refused_as_too_large(portrait_mp4: Path) -> None:
    assert rejection_reason(probe_video, portrait_mp4, max_size_bytes=1024) == "TOO_LARGE"


@pytest.mark.parametrize(
    "content",
    [PNG_BYTES, b"just some text someone renamed to .mp4\n" * 4],
    ids=["png", "text"],
)
def test_a_non_video_renamed_mp4_is_refused_as_unsupported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "renamed.mp4"
    path.write_bytes(content)
    assert rejection_reason(probe_video, path) == "UNSUPPORTED_FORMAT"


def test_an_audio_only_container_is_refused_as_an_unsupported_visual(tmp_path: Path) -> None:
    path = media_factory.make_audio(tmp_path / "tone.wav", seconds=0.5)
    assert rejection_reason(probe_video, path) == "UNSUPPORTED_FORMAT"


def test_an_mp4_with_valid_magic_but_garbage_inside_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = media_factory.make_corrupt_mp4(tmp_path / "corrupt.mp4")
    assert rejection_reason(probe_video, path) == "CORRUPT"


def test_an_mp4_whose_frames_cannot_be_decoded_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = media_factory.make_mp4_with_undecodable_frames(tmp_path / "blank_frames.mp4")
    assert rejection_reason(probe_video, path) == "CORRUPT"


def test_an_upload_cut_short_is_refused_as_corrupt(tmp_path: Path) -> None:
    # Given an MP4 truncated halfway, losing its index at the end
    path = media_factory.make_video(tmp_path / "truncated.mp4", seconds=1.0, width=64, height=64)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    # Then it is refused as corrupt
    assert rejection_reason(probe_video, path) == "CORRUPT"


def test_an_audio_only_mp4_is_refused_as_having_no_video_stream(tmp_path: Path) -> None:
    path = media_factory.make_audio_only_mp4(tmp_path / "audio_only.mp4", seconds=1.0)
    assert rejection_reason(probe_video, path) == "NO_VIDEO_STREAM"


def test_album_art_in_an_audio_file_is_not_taken_for_video(tmp_path: Path) -> None:
    # Given an M4A whose cover image FFmpeg presents as a one-frame video stream
    path = media_factory.make_m4a_with_cover_art(tmp_path / "song_with_art.mp4")
    # When it is offered as a visual
    # Then it is refused: a still image is not footage
    assert rejection_reason(probe_video, path) == "NO_VIDEO_STREAM"


def test_a_clip_over_the_duration_limit_is_refused_as_too_long(tmp_path: Path) -> None:
    path = media_factory.make_video(tmp_path / "thirty_one.mp4", seconds=31.0, width=64, height=112, fps=2)
    assert rejection_reason(probe_video, path, max_duration_sec=30.0) == "TOO_LONG"


def test_a_clip_wider_than_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    path = media_factory.make_video(tmp_path / "very_wide.mp4", seconds=1 / 24, width=5000, height=16)
    assert rejection_reason(probe_video, path) == "DIMENSIONS_TOO_LARGE"


def test_the_side_limit_applies_to_either_side(portrait_mp4: Path) -> None:
    # Given a 180x320 clip and a 256-pixel limit that only its height exceeds
    assert rejection_reason(probe_video, portrait_mp4, max_side_px=256) == "DIMENSIONS_TOO_LARGE"


def test_a_clip_with_no_size_anywhere_is_refused_as_invalid_dimensions(tmp_path: Path) -> None:
    path = media_factory.make_mkv_without_dimensions(tmp_path / "sizeless.mkv")
    assert rejection_reason(probe_video, path) == "INVALID_DIMENSIONS"


def test_a_clip_with_no_duration_anywhere_is_refused_as_invalid_duration(tmp_path: Path) -> None:
    path = media_factory.make_webm_without_any_duration(tmp_path / "timeless.webm")
    assert rejection_reason(probe_video, path) == "INVALID_DURATION"


def test_a_rejection_carries_a_stable_reason_and_a_readable_message(tmp_path: Path) -> None:
    # Given a corrupt upload at a local path
    path = media_factory.make_corrupt_mp4(tmp_path / "corrupt.mp4")
    # When it is probed
    with pytest.raises(ProbeRejected) as rejected:
        probe_video(path)
    # Then the reason is a code and the message is prose that does not leak the local path
    assert rejected.value.reason == "CORRUPT"
    assert rejected.value.message
    assert str(tmp_path) not in rejected.value.message


# Audio


@pytest.mark.parametrize(
    ("filename", "sample_rate", "codecs"),
    [
        ("tone.mp3", 44100, {"mp3"}),
        ("tone.wav", 44100, {"pcm_s16le"}),
        ("tone.m4a", 44100, {"aac"}),
        ("tone.flac", 44100, {"flac"}),
        ("tone.ogg", 48000, {"vorbis", "opus"}),
        ("tone.aac", 44100, {"aac"}),
    ],
)
def test_each_audio_format_reports_duration_sample_rate_and_channels(
    tmp_path: Path, filename: str, sample_rate: int, codecs: set[str]
) -> None:
    # Given a 3-second stereo tone
    path = media_factory.make_audio(tmp_path / filename, seconds=3.0, sample_rate=sample_rate, channels=2)
    # When it is probed
    result = probe_audio(path)
    # Then its duration, sample rate, channels and codec are reported
    assert result.duration_sec == pytest.approx(3.0, abs=0.1)
    assert (result.sample_rate, result.channels) == (sample_rate, 2)
    assert result.codec in codecs
    assert result.size_bytes == path.stat().st_size


def test_a_mono_track_reports_one_channel(tmp_path: Path) -> None:
    path = media_factory.make_audio(tmp_path / "mono.wav", seconds=1.0, sample_rate=22050, channels=1)
    result = probe_audio(path)
    assert (result.sample_rate, result.channels, result.codec) == (22050, 1, "pcm_s16le")


def test_the_soundtrack_of_a_video_is_accepted_as_audio(tmp_path: Path) -> None:
    path = media_factory.make_video(
        tmp_path / "with_sound.mp4", seconds=1.0, width=64, height=64, with_audio=True
    )
    result = probe_audio(path)
    assert (result.sample_rate, result.channels, result.codec) == (48000, 2, "aac")


def test_an_audio_file_with_album_art_is_accepted_as_audio(tmp_path: Path) -> None:
    path = media_factory.make_m4a_with_cover_art(tmp_path / "song_with_art.m4a", seconds=1.0)
    assert probe_audio(path).duration_sec == pytest.approx(1.0, abs=0.1)


def test_a_video_without_sound_is_refused_as_having_no_audio_stream(portrait_mp4: Path) -> None:
    assert rejection_reason(probe_audio, portrait_mp4) == "NO_AUDIO_STREAM"


def test_an_empty_audio_file_is_refused_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    assert rejection_reason(probe_audio, path) == "EMPTY_FILE"


def test_an_audio_file_over_the_size_limit_is_refused_as_too_large(tmp_path: Path) -> None:
    path = media_factory.make_audio(tmp_path / "tone.flac", seconds=1.0)
    assert rejection_reason(probe_audio, path, max_size_bytes=1024) == "TOO_LARGE"


def test_an_image_is_refused_as_unsupported_audio(tmp_path: Path) -> None:
    path = tmp_path / "cover.mp3"
    path.write_bytes(PNG_BYTES)
    assert rejection_reason(probe_audio, path) == "UNSUPPORTED_FORMAT"


def test_a_corrupt_audio_file_is_refused_as_corrupt(tmp_path: Path) -> None:
    path = media_factory.make_corrupt_mp4(tmp_path / "corrupt.m4a")
    assert rejection_reason(probe_audio, path) == "CORRUPT"


def test_audio_over_the_duration_limit_is_refused_as_too_long(tmp_path: Path) -> None:
    path = media_factory.make_audio(tmp_path / "tone.wav", seconds=3.0, sample_rate=8000, channels=1)
    assert rejection_reason(probe_audio, path, max_duration_sec=2.0) == "TOO_LONG"


# Audio whose container only estimates its length: the probe counts what is there


@pytest.mark.parametrize(
    ("filename", "make"),
    [
        ("vbr.mp3", lambda path: media_factory.make_quiet_intro_audio(path, seconds=8.0)),
        ("vbr-xing.mp3", lambda path: media_factory.make_quiet_intro_audio(path, seconds=8.0, xing=True)),
        ("cbr-no-xing.mp3", lambda path: media_factory.make_mp3_without_xing(path, seconds=6.0)),
        ("adts.aac", lambda path: media_factory.make_quiet_intro_audio(path, seconds=8.0)),
        ("tone.aac", lambda path: media_factory.make_audio(path, seconds=6.0)),
    ],
)
def test_audio_without_a_length_in_its_header_reports_what_a_decoder_outputs(
    tmp_path: Path, filename: str, make
) -> None:
    # Given an MP3 without a Xing frame (VBR or CBR), or raw ADTS AAC, as other encoders write them
    path = make(tmp_path / filename)
    # When it is probed
    result = probe_audio(path)
    # Then its duration is the length of the decoded audio, to the millisecond
    assert result.duration_sec == pytest.approx(media_factory.decoded_duration_sec(path), abs=0.001)


def test_a_vbr_mp3_without_a_xing_frame_is_not_taken_at_the_containers_estimate(tmp_path: Path) -> None:
    # Given an 8 s VBR MP3 opening with silence, which FFmpeg's bitrate estimate makes much longer
    path = media_factory.make_quiet_intro_audio(tmp_path / "vbr.mp3", seconds=8.0)
    with av.open(str(path)) as container:
        assert container.duration / av.time_base > 12.0
    # Then the probe reports 8 s, and a 10 s limit does not refuse it
    assert probe_audio(path, max_duration_sec=10.0).duration_sec == pytest.approx(8.0, abs=0.06)


def test_counted_audio_over_the_duration_limit_is_refused_as_too_long(tmp_path: Path) -> None:
    path = media_factory.make_quiet_intro_audio(tmp_path / "long.aac", seconds=8.0, quiet_intro_sec=0.0)
    assert rejection_reason(probe_audio, path, max_duration_sec=5.0) == "TOO_LONG"
