"""The visual lifecycle through the API handler: create, upload (the probe runs inline on moto's S3
event), READY or FAILED, list, activate, archive and unarchive."""

import base64
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import av
import pytest

from tests.integration.support import (
    Api,
    Artist,
    Media,
    add_visual,
    create_profile,
    create_track,
    error_code,
    fresh,
    get_object,
    get_track,
    object_exists,
    object_tags,
    put_object,
    set_active,
    start_visual,
    studio_visual,
    track_item,
    upload_media,
    visual_item,
)

ID = r"[0-9a-z]{26}"


# Helpers


def ready_visual(api: Api, artist: Artist, media: Media, **hints: Any) -> dict:
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip, **hints)
    assert visual["status"] == "READY", visual
    return visual


def failed_visual(api: Api, artist: Artist) -> dict:
    visual = add_visual(api, artist.user_id, artist.track_id, b"definitely not a video" * 8)
    assert visual["status"] == "FAILED", visual
    return visual


def processing_visual(api: Api, artist: Artist) -> dict:
    """Created, but its upload has not arrived."""
    return start_visual(api, artist.user_id, artist.track_id)["visual"]


def public_page(api: Api, track_id: str, **query: str) -> dict:
    status, body, _ = api("GET", f"/api/tracks/{track_id}/visuals", query=query or None)
    assert status == 200, body
    return body


def public_ids(api: Api, track_id: str, **query: str) -> list[str]:
    return [visual["id"] for visual in public_page(api, track_id, **query)["items"]]


def studio_page(api: Api, artist: Artist, **query: str) -> dict:
    status, body, _ = api(
        "GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id, query=query or None
    )
    assert status == 200, body
    return body


def activity(api: Api, artist: Artist) -> dict[str, bool]:
    """isActive of every visual of the track, whatever its status."""
    return {visual["id"]: visual["isActive"] for visual in studio_page(api, artist, limit="100")["items"]}


def active_visual_id(api: Api, track_id: str) -> str | None:
    return get_track(api, track_id)["activeVisualId"]


def walk_pages(fetch: Callable[[dict[str, str]], dict], limit: int) -> list[list[str]]:
    """Follow nextCursor from the first page to the last; returns the ids of each page."""
    pages, query = [], {"limit": str(limit)}
    while True:
        page = fetch(query)
        pages.append([visual["id"] for visual in page["items"]])
        if page["nextCursor"] is None:
            return pages
        assert len(pages) < 20, "the cursor does not advance"
        query = {"limit": str(limit), "cursor": page["nextCursor"]}


# Creating visuals


def test_only_the_tracks_artist_can_add_a_visual(api: Api, artist: Artist) -> None:
    other_artist = create_profile(api)
    path = f"/api/tracks/{artist.track_id}/visuals"

    by_other = api("POST", path, user=other_artist, body={"contentType": "video/mp4"})
    by_nobody = api("POST", path, body={"contentType": "video/mp4"})

    assert error_code(by_other) == (403, "NOT_TRACK_OWNER")
    assert error_code(by_nobody) == (401, "UNAUTHORIZED")
    assert studio_page(api, artist)["items"] == []


def test_a_visual_for_an_unknown_track_is_refused(api: Api, artist: Artist) -> None:
    reply = api(
        "POST", f"/api/tracks/{'0' * 26}/visuals", user=artist.user_id, body={"contentType": "video/mp4"}
    )

    assert error_code(reply) == (404, "TRACK_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "refusal"),
    [
        ({}, (400, "INVALID_VISUAL_SOURCE")),
        ({"contentType": "video/mp4", "uploadKey": "uploads/video/u/x.mp4"}, (400, "INVALID_VISUAL_SOURCE")),
        ({"contentType": "audio/mpeg"}, (400, "UNSUPPORTED_MEDIA_TYPE")),
        ({"contentType": "video/mp4", "sizeBytes": 500 * 1024 * 1024 + 1}, (413, "FILE_TOO_LARGE")),
        ({"contentType": "video/mp4", "kind": "AI"}, (422, "VALIDATION_FAILED")),
    ],
    ids=["no-source", "two-sources", "audio-type", "too-large", "not-artist-kind"],
)
def test_a_visual_without_one_usable_source_is_refused(
    api: Api, artist: Artist, body: dict, refusal: tuple[int, str]
) -> None:
    reply = api("POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body=body)

    assert error_code(reply) == refusal
    assert studio_page(api, artist)["items"] == []


def test_a_new_visual_is_processing_with_an_upload_target(api: Api, artist: Artist) -> None:
    created = start_visual(api, artist.user_id, artist.track_id, contentType="video/webm")

    visual, upload = created["visual"], created["upload"]
    assert (visual["status"], visual["kind"], visual["uploaderUserId"]) == (
        "PROCESSING",
        "ARTIST",
        artist.user_id,
    )
    assert (visual["videoUrl"], visual["posterUrl"], visual["isActive"]) == (None, None, False)
    assert re.fullmatch(rf"visuals/{artist.track_id}/{visual['id']}/source\.webm", upload["key"])
    assert upload["fields"]["Content-Type"] == "video/webm"


def test_an_uploaded_clip_is_ready_with_the_probes_figures_not_the_clients(
    api: Api, artist: Artist, media: Media
) -> None:
    # Given the client claims a 99 s, 1000x2000 clip
    hints = {"durationSec": 99, "widthPx": 1000, "heightPx": 2000, "sizeBytes": 12}
    # When the 0.5 s 64x112 8 fps clip is uploaded and probed
    visual = ready_visual(api, artist, media, **hints)
    # Then the visual carries what the probe measured
    assert visual["durationSec"] == pytest.approx(Media.CLIP_SECONDS, abs=0.07)
    assert (visual["widthPx"], visual["heightPx"]) == (Media.CLIP_WIDTH, Media.CLIP_HEIGHT)
    assert visual["fps"] == pytest.approx(Media.CLIP_FPS)
    assert visual["codec"] == "h264"
    assert 0.3 < visual["meanLuminance"] < 0.7  # the clip is mid-grey
    assert (visual["failureReason"], visual["failureMessage"], visual["isActive"]) == (None, None, False)
    source_key = f"visuals/{artist.track_id}/{visual['id']}/source.mp4"
    assert source_key in visual["videoUrl"]
    assert visual["updatedAt"] > visual["createdAt"]
    # And the hints are kept apart from the measurements
    item = visual_item(visual["id"])
    assert float(item["declared"]["M"]["durationSec"]["N"]) == 99
    assert item["media"]["M"]["sizeBytes"] == {"N": str(len(media.clip))}
    assert item["readyTrackId"] == {"S": artist.track_id}


def test_the_probe_stores_a_jpeg_poster_next_to_the_source(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media)

    poster_key = f"visuals/{artist.track_id}/{visual['id']}/poster.jpg"
    data, content_type = get_object(poster_key)
    assert content_type == "image/jpeg"
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"
    with av.open(io.BytesIO(data), format="jpeg_pipe") as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (Media.CLIP_WIDTH, Media.CLIP_HEIGHT)
    assert poster_key in visual["posterUrl"]


def test_a_visual_can_be_made_from_an_earlier_upload(api: Api, artist: Artist, media: Media) -> None:
    # Given a clip uploaded through /api/upload/media
    upload_key = upload_media(api, artist.user_id, media.clip, "video/mp4")
    # When the artist creates a visual from it
    status, body, _ = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": upload_key}
    )
    # Then no upload target is needed: the server copied it into place and the copy was probed
    assert status == 201
    assert body["upload"] is None
    visual = studio_visual(api, artist.user_id, body["visual"]["id"])
    assert visual["status"] == "READY"
    assert (visual["widthPx"], visual["heightPx"]) == (Media.CLIP_WIDTH, Media.CLIP_HEIGHT)
    assert get_object(f"visuals/{artist.track_id}/{visual['id']}/source.mp4") == (media.clip, "video/mp4")


@pytest.mark.parametrize(
    ("make_data", "reason"),
    [
        (lambda media: media.corrupt_mp4, "CORRUPT"),
        (lambda media: media.too_long_clip, "TOO_LONG"),
        (lambda media: media.too_wide_clip, "DIMENSIONS_TOO_LARGE"),
        (lambda media: media.audio_only_mp4, "NO_VIDEO_STREAM"),
        (lambda media: media.png, "UNSUPPORTED_FORMAT"),
        (lambda media: b"just some text, saved as .mp4\n" * 4, "UNSUPPORTED_FORMAT"),
        (lambda media: b"", "EMPTY_FILE"),
    ],
    ids=["corrupt", "31-seconds", "5000-px-wide", "audio-only", "png", "text", "empty"],
)
def test_a_clip_the_probe_rejects_ends_failed_with_its_reason(
    api: Api, artist: Artist, media: Media, make_data: Callable[[Media], bytes], reason: str
) -> None:
    # Given a visual waiting for its upload
    created = start_visual(api, artist.user_id, artist.track_id)
    # When unusable bytes arrive at its key
    put_object(created["upload"]["key"], make_data(media), "video/mp4")
    # Then the visual is FAILED with the probe's reason and a message, and nothing playable
    visual = studio_visual(api, artist.user_id, created["visual"]["id"])
    assert (visual["status"], visual["failureReason"]) == ("FAILED", reason)
    assert isinstance(visual["failureMessage"], str) and visual["failureMessage"]
    assert (visual["videoUrl"], visual["posterUrl"], visual["durationSec"], visual["widthPx"]) == (None,) * 4
    assert not object_exists(f"visuals/{artist.track_id}/{visual['id']}/poster.jpg")
    assert "readyTrackId" not in visual_item(visual["id"])


# Who sees what


@pytest.mark.parametrize("make_visual", [processing_visual, failed_visual], ids=["processing", "failed"])
def test_an_unfinished_visual_is_visible_to_its_artist_only(
    api: Api, artist: Artist, make_visual: Callable[[Api, Artist], dict]
) -> None:
    visual = make_visual(api, artist)

    anonymous = api("GET", f"/api/visuals/{visual['id']}")
    stranger = api("GET", f"/api/visuals/{visual['id']}", user=fresh("user-"))
    stranger_in_studio = api("GET", f"/api/studio/visuals/{visual['id']}", user=fresh("user-"))
    artist_in_studio = api("GET", f"/api/studio/visuals/{visual['id']}", user=artist.user_id)

    assert error_code(anonymous) == (404, "VISUAL_NOT_FOUND")
    assert error_code(stranger) == (404, "VISUAL_NOT_FOUND")
    assert error_code(stranger_in_studio) == (404, "VISUAL_NOT_FOUND")
    assert artist_in_studio[0] == 200
    assert artist_in_studio[1]["status"] == visual["status"]


def test_a_ready_visual_is_public(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media)

    status, body, _ = api("GET", f"/api/visuals/{visual['id']}")

    assert status == 200
    assert (body["id"], body["status"], body["trackId"]) == (visual["id"], "READY", artist.track_id)


def test_an_unknown_visual_is_not_found(api: Api) -> None:
    assert error_code(api("GET", f"/api/visuals/{'0' * 26}")) == (404, "VISUAL_NOT_FOUND")


def test_a_visual_without_an_uploader_is_hidden_from_fans_until_ready(api: Api, artist: Artist) -> None:
    from casset.data import visuals as visuals_data
    from casset.entities import MediaStatus, Visual, VisualKind
    from casset.ids import new_id

    # Regression: can_see() used to compare an anonymous caller's None with the missing uploader's None
    # Given a generated (AI) visual, with no uploader, still PROCESSING
    visual_id, now = new_id(), datetime.now(UTC)
    visuals_data.create_visual(
        Visual(
            id=visual_id,
            track_id=artist.track_id,
            kind=VisualKind.AI,
            status=MediaStatus.PROCESSING,
            uploader_user_id=None,
            source_key=f"visuals/{artist.track_id}/{visual_id}/source.mp4",
            content_type="video/mp4",
            position="V",
            created_at=now,
            updated_at=now,
        )
    )
    # When an anonymous fan asks for it
    reply = api("GET", f"/api/visuals/{visual_id}")
    # Then it does not exist for them
    assert error_code(reply) == (404, "VISUAL_NOT_FOUND")


# Lists and pages


def test_the_public_list_shows_ready_visuals_and_the_studio_shows_all(
    api: Api, artist: Artist, media: Media
) -> None:
    ready = ready_visual(api, artist, media)
    failed = failed_visual(api, artist)
    processing = processing_visual(api, artist)

    assert public_ids(api, artist.track_id) == [ready["id"]]
    studio = studio_page(api, artist)
    assert [visual["id"] for visual in studio["items"]] == [ready["id"], failed["id"], processing["id"]]
    assert [visual["status"] for visual in studio["items"]] == ["READY", "FAILED", "PROCESSING"]


def test_the_studio_list_is_the_artists_only(api: Api, artist: Artist) -> None:
    reply = api("GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=create_profile(api))

    assert error_code(reply) == (403, "NOT_TRACK_OWNER")


def test_the_list_of_an_unknown_track_is_not_found(api: Api) -> None:
    assert error_code(api("GET", f"/api/tracks/{'0' * 26}/visuals")) == (404, "TRACK_NOT_FOUND")


def test_the_list_filters_by_kind_and_by_active(api: Api, artist: Artist, media: Media) -> None:
    # Given two READY visuals, the second active
    first, second = ready_visual(api, artist, media), ready_visual(api, artist, media)
    assert set_active(api, artist.user_id, artist.track_id, second["id"], True)[0] == 200
    # Then the filters select on kind and on isActive
    assert public_ids(api, artist.track_id, kind="ARTIST") == [first["id"], second["id"]]
    assert public_ids(api, artist.track_id, kind="COMMUNITY") == []
    assert public_ids(api, artist.track_id, active="true") == [second["id"]]
    assert public_ids(api, artist.track_id, active="false") == [first["id"]]
    assert public_ids(api, artist.track_id, kind="ARTIST", active="true", limit="1") == [second["id"]]


@pytest.mark.parametrize(
    "query",
    [{"kind": "VIDEO"}, {"active": "maybe"}, {"limit": "0"}, {"limit": "101"}, {"cursor": "x" * 513}],
)
def test_invalid_list_parameters_are_refused(api: Api, artist: Artist, query: dict) -> None:
    status, body, _ = api("GET", f"/api/tracks/{artist.track_id}/visuals", query=query)

    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
    assert [detail["field"] for detail in body["details"]] == [f"query.{next(iter(query))}"]


@pytest.fixture(scope="module")
def _galleries(aws: Any) -> dict:
    return {}


@pytest.fixture
def gallery(api: Api, media: Media, _galleries: dict) -> dict:
    """One track per module with five READY visuals and a FAILED one between them (read-only tests)."""
    if not _galleries:
        user = create_profile(api)
        artist = Artist(user, create_track(api, user)["track"]["id"])
        ready = [ready_visual(api, artist, media)["id"] for _ in range(3)]
        failed = failed_visual(api, artist)["id"]
        ready += [ready_visual(api, artist, media)["id"] for _ in range(2)]
        _galleries.update(artist=artist, ready=ready, failed=failed)
    return _galleries


def test_paging_visits_every_ready_visual_exactly_once(api: Api, gallery: dict) -> None:
    track_id = gallery["artist"].track_id

    pages = walk_pages(lambda query: public_page(api, track_id, **query), limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [visual_id for page in pages for visual_id in page] == gallery["ready"]


def test_a_page_holding_the_rest_has_no_next_cursor(api: Api, gallery: dict) -> None:
    track_id = gallery["artist"].track_id

    assert walk_pages(lambda query: public_page(api, track_id, **query), limit=5) == [gallery["ready"]]


def test_studio_paging_visits_every_visual_exactly_once(api: Api, gallery: dict) -> None:
    artist = gallery["artist"]
    everything = sorted([*gallery["ready"], gallery["failed"]])  # ids sort by creation time

    pages = walk_pages(lambda query: studio_page(api, artist, **query), limit=4)

    assert [visual_id for page in pages for visual_id in page] == everything
    assert [len(page) for page in pages] == [4, 2]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    ["garbage!!", "e30", _b64(b"[1, 2]"), _b64(b'["", ""]'), _b64(b'["a", "b", "c"]'), _b64(b"\xff\xfe")],
    ids=["not-base64", "empty-object", "numbers", "empty-strings", "three-parts", "not-utf8"],
)
def test_a_cursor_this_api_did_not_hand_out_is_refused(api: Api, gallery: dict, cursor: str) -> None:
    artist = gallery["artist"]

    public = api("GET", f"/api/tracks/{artist.track_id}/visuals", query={"cursor": cursor})
    studio = api(
        "GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id, query={"cursor": cursor}
    )

    assert error_code(public) == (400, "INVALID_CURSOR")
    assert error_code(studio) == (400, "INVALID_CURSOR")


# Activation


@pytest.mark.parametrize("make_visual", [processing_visual, failed_visual], ids=["processing", "failed"])
def test_an_unfinished_visual_cannot_be_made_active(
    api: Api, artist: Artist, media: Media, make_visual: Callable[[Api, Artist], dict]
) -> None:
    # Given an active READY visual and an unfinished one
    current = ready_visual(api, artist, media)
    set_active(api, artist.user_id, artist.track_id, current["id"], True)
    unfinished = make_visual(api, artist)
    # When the artist tries to activate the unfinished one
    reply = set_active(api, artist.user_id, artist.track_id, unfinished["id"], True)
    # Then it is refused and the active visual did not change
    assert error_code(reply) == (409, "VISUAL_NOT_READY")
    assert active_visual_id(api, artist.track_id) == current["id"]
    assert activity(api, artist) == {current["id"]: True, unfinished["id"]: False}


def test_an_archived_visual_cannot_be_made_active(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media)
    api("POST", f"/api/tracks/{artist.track_id}/visuals/{visual['id']}/archive", user=artist.user_id)

    reply = set_active(api, artist.user_id, artist.track_id, visual["id"], True)

    assert error_code(reply) == (409, "VISUAL_ARCHIVED")
    assert active_visual_id(api, artist.track_id) is None
    assert activity(api, artist) == {visual["id"]: False}


def test_activating_another_visual_leaves_exactly_one_active(api: Api, artist: Artist, media: Media) -> None:
    # Given three READY visuals, A active
    a, b, c = (ready_visual(api, artist, media)["id"] for _ in range(3))
    assert set_active(api, artist.user_id, artist.track_id, a, True)[0] == 200
    # When the artist activates B
    status, body, _ = set_active(api, artist.user_id, artist.track_id, b, True)
    # Then B is the only active visual, and the track points at it
    assert (status, body["id"], body["isActive"]) == (200, b, True)
    assert activity(api, artist) == {a: False, b: True, c: False}
    assert active_visual_id(api, artist.track_id) == b
    assert [visual_item(v)["isActive"] for v in (a, b, c)] == [
        {"BOOL": False},
        {"BOOL": True},
        {"BOOL": False},
    ]


def test_activating_the_active_visual_again_changes_nothing(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media)
    set_active(api, artist.user_id, artist.track_id, visual["id"], True)
    track_before = get_track(api, artist.track_id)

    status, body, _ = set_active(api, artist.user_id, artist.track_id, visual["id"], True)

    assert (status, body["isActive"]) == (200, True)
    assert get_track(api, artist.track_id) == track_before


def test_deactivating_the_active_visual_clears_the_tracks_pairing(
    api: Api, artist: Artist, media: Media
) -> None:
    visual = ready_visual(api, artist, media)
    set_active(api, artist.user_id, artist.track_id, visual["id"], True)

    status, body, _ = set_active(api, artist.user_id, artist.track_id, visual["id"], False)

    assert (status, body["isActive"]) == (200, False)
    assert active_visual_id(api, artist.track_id) is None
    assert activity(api, artist) == {visual["id"]: False}
    assert "activeVisualId" not in track_item(artist.track_id)


def test_deactivating_an_inactive_visual_leaves_the_active_one_alone(
    api: Api, artist: Artist, media: Media
) -> None:
    active, other = ready_visual(api, artist, media), ready_visual(api, artist, media)
    set_active(api, artist.user_id, artist.track_id, active["id"], True)

    status, body, _ = set_active(api, artist.user_id, artist.track_id, other["id"], False)

    assert (status, body["isActive"]) == (200, False)
    assert active_visual_id(api, artist.track_id) == active["id"]
    assert activity(api, artist) == {active["id"]: True, other["id"]: False}


def test_only_the_tracks_artist_can_activate(api: Api, artist: Artist, media: Media) -> None:
    visual = ready_visual(api, artist, media)

    reply = set_active(api, create_profile(api), artist.track_id, visual["id"], True)

    assert error_code(reply) == (403, "NOT_TRACK_OWNER")
    assert active_visual_id(api, artist.track_id) is None


# Archiving


def archive(api: Api, artist: Artist, visual_id: str, action: str = "archive") -> tuple[int, Any, Any]:
    return api("POST", f"/api/tracks/{artist.track_id}/visuals/{visual_id}/{action}", user=artist.user_id)


def test_archiving_the_active_visual_clears_the_tracks_pairing(
    api: Api, artist: Artist, media: Media
) -> None:
    # Given the active visual
    visual = ready_visual(api, artist, media)
    set_active(api, artist.user_id, artist.track_id, visual["id"], True)
    # When it is archived
    status, body, _ = archive(api, artist, visual["id"])
    # Then it is ARCHIVED, no longer active, the track has no active visual, and its media is tagged
    assert (status, body["status"], body["isActive"]) == (200, "ARCHIVED", False)
    assert active_visual_id(api, artist.track_id) is None
    assert activity(api, artist) == {visual["id"]: False}
    for name in ("source.mp4", "poster.jpg"):
        assert object_tags(f"visuals/{artist.track_id}/{visual['id']}/{name}") == {"status": "archived"}


def test_an_archived_visual_leaves_the_public_list_until_unarchived(
    api: Api, artist: Artist, media: Media
) -> None:
    # Given two READY visuals, one archived
    kept, hidden = ready_visual(api, artist, media), ready_visual(api, artist, media)
    archive(api, artist, hidden["id"])
    # Then fans no longer see it
    assert public_ids(api, artist.track_id) == [kept["id"]]
    assert error_code(api("GET", f"/api/visuals/{hidden['id']}")) == (404, "VISUAL_NOT_FOUND")
    # When it is unarchived
    status, body, _ = archive(api, artist, hidden["id"], "unarchive")
    # Then it is READY again, back in its place in the list, inactive, and its media untagged
    assert (status, body["status"], body["isActive"]) == (200, "READY", False)
    assert public_ids(api, artist.track_id) == [kept["id"], hidden["id"]]
    assert api("GET", f"/api/visuals/{hidden['id']}")[0] == 200
    assert object_tags(f"visuals/{artist.track_id}/{hidden['id']}/source.mp4") == {}


def test_a_failed_visual_is_unarchived_back_to_failed(api: Api, artist: Artist) -> None:
    visual = failed_visual(api, artist)
    archive(api, artist, visual["id"])

    status, body, _ = archive(api, artist, visual["id"], "unarchive")

    assert (status, body["status"], body["failureReason"]) == (200, "FAILED", "UNSUPPORTED_FORMAT")
    assert public_ids(api, artist.track_id) == []


def test_archive_and_unarchive_refuse_the_wrong_states(api: Api, artist: Artist, media: Media) -> None:
    processing = processing_visual(api, artist)
    ready = ready_visual(api, artist, media)

    assert error_code(archive(api, artist, processing["id"], "unarchive")) == (409, "VISUAL_NOT_ARCHIVED")
    assert error_code(archive(api, artist, ready["id"], "unarchive")) == (409, "VISUAL_NOT_ARCHIVED")
    assert archive(api, artist, ready["id"])[0] == 200
    assert error_code(archive(api, artist, ready["id"])) == (409, "VISUAL_ALREADY_ARCHIVED")


@pytest.mark.parametrize("action", ["active", "archive", "unarchive"])
def test_a_visual_of_another_track_is_not_found_through_this_tracks_path(
    api: Api, artist: Artist, media: Media, action: str
) -> None:
    # Given the same artist's second track with a READY visual
    other_track = create_track(api, artist.user_id)["track"]["id"]
    theirs = add_visual(api, artist.user_id, other_track, media.clip)
    # When it is addressed through the first track's path
    if action == "active":
        reply = set_active(api, artist.user_id, artist.track_id, theirs["id"], True)
    else:
        reply = archive(api, artist, theirs["id"], action)
    # Then it is not found, and neither track changed
    assert error_code(reply) == (404, "VISUAL_NOT_FOUND")
    assert active_visual_id(api, artist.track_id) is None
    assert active_visual_id(api, other_track) is None
    assert studio_visual(api, artist.user_id, theirs["id"])["status"] == "READY"
