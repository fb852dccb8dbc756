import pytest

from casset import keys
from casset.errors import BadRequest
from casset.ids import is_id, new_id
from casset.media_types import MediaCategory, media_type


def test_ids_are_unique_sortable_and_url_safe() -> None:
    first = new_id()
    later = [new_id() for _ in range(200)]
    assert len(set(later)) == 200
    assert all(is_id(value) for value in later)
    assert first[:10] <= min(later)[:10]  # the first 10 characters are the millisecond timestamp


@pytest.mark.parametrize(
    ("content_type", "category", "extension"),
    [
        ("video/mp4", "video", "mp4"),
        ("video/quicktime", "video", "mov"),
        ("audio/x-m4a", "audio", "m4a"),
        ("image/webp", "image", "webp"),
        ("Video/MP4; codecs=avc1", "video", "mp4"),
    ],
)
def test_accepted_content_types(content_type: str, category: str, extension: str) -> None:
    found = media_type(content_type)
    assert (found.category.value, found.extension) == (category, extension)


def test_unsupported_types_list_what_is_allowed() -> None:
    with pytest.raises(BadRequest) as error:
        media_type("application/pdf")
    assert error.value.code == "UNSUPPORTED_MEDIA_TYPE"
    assert "video/mp4" in error.value.message


def test_a_type_of_the_wrong_category_is_rejected() -> None:
    with pytest.raises(BadRequest):
        media_type("audio/mpeg", expected=MediaCategory.VIDEO)


def test_probe_targets_round_trip_through_the_key_layout() -> None:
    track_id, visual_id, upload_id = new_id(), new_id(), new_id()
    source = keys.visual_source(track_id, visual_id, media_type("video/webm"))
    audio = keys.track_audio(track_id, upload_id, media_type("audio/flac"))
    assert keys.parse_probe_target(source) == keys.VisualSource(track_id, visual_id)
    assert keys.parse_probe_target(audio) == keys.TrackAudio(track_id, upload_id)
    assert keys.parse_probe_target(keys.visual_poster(track_id, visual_id)) is None
    assert keys.parse_probe_target(keys.track_cover(track_id, upload_id, media_type("image/png"))) is None


def test_upload_keys_name_their_owner() -> None:
    upload_id = new_id()
    key = keys.upload("auth0|42", upload_id, media_type("video/mp4"))
    parsed = keys.parse_upload(key)
    assert parsed == keys.Upload("video", "auth0|42", upload_id, "mp4")
    assert keys.parse_upload("uploads/video/u/../../etc.mp4") is None
