"""Browser uploads: presigned POSTs from /api/upload/media, and adopting an upload into a track, a visual
or a profile (ownership, existence and the bytes' real format are all checked)."""

import re

import pytest

from tests.integration.support import (
    MAX_UPLOAD_BYTES,
    Api,
    Artist,
    create_profile,
    error_code,
    fresh,
    get_object,
    get_track,
    object_exists,
    put_object,
    track_item,
    upload_media,
)

ID = r"[0-9a-z]{26}"


def request_upload(api: Api, user: str | None, **body: object) -> tuple[int, dict]:
    status, reply, _ = api("POST", "/api/upload/media", user=user, body=body)
    return status, reply


def studio_visual_ids(api: Api, artist: Artist) -> list[str]:
    status, body, _ = api("GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id)
    assert status == 200, body
    return [visual["id"] for visual in body["items"]]


@pytest.mark.parametrize(
    ("content_type", "category", "extension", "stored_type"),
    [
        ("video/mp4", "video", "mp4", "video/mp4"),
        ("video/quicktime", "video", "mov", "video/quicktime"),
        ("audio/mpeg", "audio", "mp3", "audio/mpeg"),
        ("audio/x-wav", "audio", "wav", "audio/x-wav"),
        ("image/png", "image", "png", "image/png"),
        ("IMAGE/JPEG; charset=binary", "image", "jpg", "image/jpeg"),
    ],
)
def test_an_upload_target_is_a_presigned_post_under_the_callers_prefix(
    api: Api, content_type: str, category: str, extension: str, stored_type: str
) -> None:
    user = fresh("user-")

    status, body = request_upload(api, user, contentType=content_type, sizeBytes=1234)

    assert status == 200
    assert re.fullmatch(rf"uploads/{category}/{user}/{ID}\.{extension}", body["key"])
    assert (body["method"], body["contentType"], body["maxBytes"]) == ("POST", stored_type, MAX_UPLOAD_BYTES)
    assert body["fields"]["key"] == body["key"]
    assert body["fields"]["Content-Type"] == stored_type
    assert body["url"].startswith("https://")
    assert {"policy", "x-amz-signature"} <= set(body["fields"])


def test_each_upload_target_has_its_own_key(api: Api) -> None:
    user = fresh("user-")

    keys = {request_upload(api, user, contentType="video/mp4")[1]["key"] for _ in range(3)}

    assert len(keys) == 3


@pytest.mark.parametrize("content_type", ["application/pdf", "video/x-msvideo", "text/plain", "image/gif"])
def test_an_unsupported_type_is_refused(api: Api, content_type: str) -> None:
    status, body = request_upload(api, fresh("user-"), contentType=content_type)

    assert (status, body["code"]) == (400, "UNSUPPORTED_MEDIA_TYPE")
    assert "video/mp4" in body["message"]  # it says what is allowed


def test_a_file_over_500_mb_is_refused_before_upload(api: Api) -> None:
    user = fresh("user-")

    too_big = request_upload(api, user, contentType="video/mp4", sizeBytes=MAX_UPLOAD_BYTES + 1)
    at_limit = request_upload(api, user, contentType="video/mp4", sizeBytes=MAX_UPLOAD_BYTES)

    assert (too_big[0], too_big[1]["code"]) == (413, "FILE_TOO_LARGE")
    assert at_limit[0] == 200


def test_an_anonymous_caller_gets_no_upload_target(api: Api) -> None:
    assert request_upload(api, None, contentType="video/mp4")[1]["code"] == "UNAUTHORIZED"


# Adopting uploads


def test_someone_elses_upload_cannot_be_adopted(api: Api, artist: Artist, media) -> None:
    # Given another user uploaded a clip
    stranger = fresh("user-")
    their_key = upload_media(api, stranger, media.clip, "video/mp4")
    # When the artist tries to use it for their visual
    reply = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": their_key}
    )
    # Then it is refused and no visual exists
    assert error_code(reply) == (403, "UPLOAD_NOT_OWNED")
    assert studio_visual_ids(api, artist) == []


def test_an_upload_that_never_arrived_cannot_be_adopted(api: Api, artist: Artist) -> None:
    # Given an upload target whose upload never happened
    _, target = request_upload(api, artist.user_id, contentType="video/mp4")
    # When the artist uses its key
    reply = api(
        "POST",
        f"/api/tracks/{artist.track_id}/visuals",
        user=artist.user_id,
        body={"uploadKey": target["key"]},
    )
    # Then it is not found and no visual exists
    assert error_code(reply) == (404, "UPLOAD_NOT_FOUND")
    assert studio_visual_ids(api, artist) == []


@pytest.mark.parametrize(
    "key",
    ["visuals/abc/def/source.mp4", "uploads/video/someone", "uploads/video/u/not-an-id.mp4", "../etc/passwd"],
)
def test_a_key_not_handed_out_by_the_upload_route_is_refused(api: Api, artist: Artist, key: str) -> None:
    reply = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": key}
    )

    assert error_code(reply) == (400, "INVALID_UPLOAD_KEY")


def test_an_upload_of_the_wrong_category_is_refused(api: Api, artist: Artist, media) -> None:
    # Given an audio upload
    audio_key = upload_media(api, artist.user_id, media.audio(".mp3"), "audio/mpeg")
    # When it is used as a visual
    reply = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": audio_key}
    )
    # Then it is refused
    assert error_code(reply) == (400, "UNSUPPORTED_MEDIA_TYPE")
    assert studio_visual_ids(api, artist) == []


def test_an_image_upload_that_is_not_an_image_is_refused_as_a_cover(api: Api, artist: Artist) -> None:
    # Given an "image/png" upload whose bytes are text
    fake_key = upload_media(api, artist.user_id, b"<html>not a picture</html>" * 10, "image/png")
    # When it is used as the cover of a new track, or of the existing one
    on_create = api(
        "POST", "/api/tracks", user=artist.user_id, body={"title": "Covered", "coverUploadKey": fake_key}
    )
    on_update = api(
        "PATCH", f"/api/tracks/{artist.track_id}", user=artist.user_id, body={"coverUploadKey": fake_key}
    )
    # Then both are refused: no new track, no cover on the old one
    assert error_code(on_create) == (400, "UNSUPPORTED_FORMAT")
    assert error_code(on_update) == (400, "UNSUPPORTED_FORMAT")
    _, listed, _ = api("GET", f"/api/artists/{artist.user_id}/tracks")
    assert [track["id"] for track in listed["items"]] == [artist.track_id]
    assert get_track(api, artist.track_id)["coverUrl"] is None


def test_an_image_whose_stored_type_is_not_an_image_is_refused(api: Api, artist: Artist, media) -> None:
    # Given PNG bytes put at an image upload key but declared as video/mp4
    _, target = request_upload(api, artist.user_id, contentType="image/png")
    put_object(target["key"], media.png, "video/mp4")
    # When used as a cover
    reply = api(
        "PATCH", f"/api/tracks/{artist.track_id}", user=artist.user_id, body={"coverUploadKey": target["key"]}
    )
    # Then the stored Content-Type is what counts
    assert error_code(reply) == (400, "UNSUPPORTED_MEDIA_TYPE")


def test_a_real_image_becomes_the_tracks_cover(api: Api, media) -> None:
    # Given an artist's PNG upload
    user = create_profile(api)
    upload_key = upload_media(api, user, media.png, "image/png")
    upload_id = upload_key.rsplit("/", 1)[1].removesuffix(".png")
    # When they create a track with it as the cover
    status, body, _ = api(
        "POST", "/api/tracks", user=user, body={"title": "Covered", "coverUploadKey": upload_key}
    )
    # Then the image was copied under the track's cover prefix and the track links to it
    assert status == 201
    track_id = body["track"]["id"]
    cover_key = f"tracks/{track_id}/cover/{upload_id}.png"
    assert track_item(track_id)["coverKey"] == {"S": cover_key}
    assert get_object(cover_key) == (media.png, "image/png")
    assert cover_key in body["track"]["coverUrl"]
    # And the upload itself is left for the bucket's lifecycle rule to expire
    assert object_exists(upload_key)
