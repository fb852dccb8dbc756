"""Tracks through the API handler, with their audio uploaded to moto's bucket and probed inline."""

import re

import pytest

from tests.integration.support import (
    Api,
    Artist,
    create_profile,
    create_track,
    error_code,
    fresh,
    get_track,
    put_object,
    track_item,
    upload_media,
)

ID = r"[0-9a-z]{26}"


def upload_audio(api: Api, user: str, data: bytes, content_type: str, **fields: object) -> str:
    """Create a track asking for an audio upload target, upload the bytes; returns the track id."""
    created = create_track(api, user, audioContentType=content_type, **fields)
    put_object(created["audioUpload"]["key"], data, content_type)
    return str(created["track"]["id"])


def artist_tracks(api: Api, artist_id: str, **query: str) -> list[dict]:
    status, body, _ = api("GET", f"/api/artists/{artist_id}/tracks", query=query or None)
    assert status == 200, body
    return list(body["items"])


# Who may create tracks


def test_a_listener_cannot_create_a_track(api: Api) -> None:
    listener = create_profile(api, artist=False)

    reply = api("POST", "/api/tracks", user=listener, body={"title": "Mine"})

    assert error_code(reply) == (403, "NOT_AN_ARTIST")
    assert artist_tracks(api, listener) == []


def test_a_user_without_a_profile_cannot_create_a_track(api: Api) -> None:
    user = fresh("user-")

    reply = api("POST", "/api/tracks", user=user, body={"title": "Mine"})

    assert error_code(reply) == (403, "PROFILE_REQUIRED")
    assert artist_tracks(api, user) == []


def test_an_anonymous_caller_cannot_create_a_track(api: Api) -> None:
    assert error_code(api("POST", "/api/tracks", body={"title": "Mine"})) == (401, "UNAUTHORIZED")


# Creating a track and its audio upload target


def test_a_new_track_waits_for_its_audio_upload(api: Api) -> None:
    # Given an artist
    user = create_profile(api)
    # When they create a track and say they will upload an MP3
    body = create_track(api, user, title="  First Light ", audioContentType="audio/mpeg")
    # Then the track is PROCESSING with the default hook, and has a presigned POST under its audio prefix
    track, upload = body["track"], body["audioUpload"]
    assert (track["artistId"], track["title"]) == (user, "First Light")
    assert track["audio"] == {
        "status": "PROCESSING",
        "failureReason": None,
        "durationSec": None,
        "sampleRate": None,
        "channels": None,
        "codec": None,
    }
    assert (track["previewStartSec"], track["hookDurationSec"], track["activeVisualId"]) == (0, 15, None)
    assert re.fullmatch(rf"tracks/{track['id']}/audio/{ID}\.mp3", upload["key"])
    assert upload["fields"]["key"] == upload["key"]
    assert upload["fields"]["Content-Type"] == "audio/mpeg"
    assert (upload["method"], upload["contentType"]) == ("POST", "audio/mpeg")
    # And the stored track expects exactly that key
    assert track_item(track["id"])["audioKey"] == {"S": upload["key"]}
    assert get_track(api, track["id"]) == track


def test_a_track_created_without_audio_is_pending_upload(api: Api) -> None:
    body = create_track(api, create_profile(api))

    assert body["audioUpload"] is None
    assert body["track"]["audio"]["status"] == "PENDING_UPLOAD"


@pytest.mark.parametrize(
    ("suffix", "content_type", "codec"),
    [(".mp3", "audio/mpeg", "mp3"), (".wav", "audio/wav", "pcm_s16le")],
)
def test_uploaded_audio_is_probed_to_ready(
    api: Api, media, suffix: str, content_type: str, codec: str
) -> None:
    # Given a track waiting for its audio
    user = create_profile(api)
    # When a 6-second stereo 44.1 kHz file lands at the upload key
    track_id = upload_audio(api, user, media.audio(suffix, seconds=6.0), content_type)
    # Then the probe measured it and the track is READY
    audio = get_track(api, track_id)["audio"]
    assert audio["status"] == "READY"
    assert audio["durationSec"] == pytest.approx(6.0, abs=0.1)
    assert (audio["sampleRate"], audio["channels"], audio["codec"]) == (44100, 2, codec)
    assert audio["failureReason"] is None


def test_audio_shorter_than_the_shortest_hook_fails(api: Api, media) -> None:
    # Given a track waiting for its audio
    user = create_profile(api)
    # When a 3-second file lands: no 5-second hook fits in it
    track_id = upload_audio(api, user, media.audio(".wav", seconds=3.0), "audio/wav")
    # Then the probe refuses it with a reason
    audio = get_track(api, track_id)["audio"]
    assert (audio["status"], audio["failureReason"]) == ("FAILED", "TOO_SHORT")


@pytest.mark.parametrize(
    ("data_name", "reason"),
    [("text", "UNSUPPORTED_FORMAT"), ("corrupt", "CORRUPT")],
)
def test_garbage_audio_fails_with_a_reason(api: Api, media, data_name: str, reason: str) -> None:
    # Given a track waiting for an M4A
    user = create_profile(api)
    data = {"text": b"this is not audio at all\n" * 20, "corrupt": media.corrupt_mp4}[data_name]
    created = create_track(api, user, audioContentType="audio/mp4")
    key = created["audioUpload"]["key"]
    # When the bytes uploaded are not usable audio
    put_object(key, data, "audio/mp4")
    # Then the track's audio is FAILED with the probe's reason
    # (tagging for purge is asserted in test_probe_handler.py: moto's inline probe runs inside the PUT,
    # which then applies the PUT's own, empty, tag set)
    audio = get_track(api, created["track"]["id"])["audio"]
    assert (audio["status"], audio["failureReason"], audio["durationSec"]) == ("FAILED", reason, None)


def test_audio_can_be_replaced_with_an_earlier_upload(api: Api, media) -> None:
    # Given a track whose first audio failed
    user = create_profile(api)
    created = create_track(api, user, audioContentType="audio/mpeg")
    put_object(created["audioUpload"]["key"], b"nope" * 100, "audio/mpeg")
    track_id = created["track"]["id"]
    assert get_track(api, track_id)["audio"]["status"] == "FAILED"
    # When the artist adopts a WAV they uploaded through /api/upload/media
    upload_key = upload_media(api, user, media.audio(".wav"), "audio/wav")
    status, body, _ = api(
        "POST", f"/api/tracks/{track_id}/audio", user=user, body={"audioUploadKey": upload_key}
    )
    # Then the server-side copy was probed: READY, with no upload target handed out
    assert status == 200
    assert body["audioUpload"] is None
    track = get_track(api, track_id)
    assert (track["audio"]["status"], track["audio"]["codec"], track["audio"]["failureReason"]) == (
        "READY",
        "pcm_s16le",
        None,
    )
    upload_id = upload_key.rsplit("/", 1)[1].removesuffix(".wav")
    assert track_item(track_id)["audioKey"] == {"S": f"tracks/{track_id}/audio/{upload_id}.wav"}


# Hooks


@pytest.mark.parametrize("duration", [4, 4.99, 30.01, 31])
def test_a_hook_outside_5_to_30_seconds_is_rejected_by_the_schema(api: Api, artist: Artist, duration) -> None:
    create_reply = api(
        "POST", "/api/tracks", user=artist.user_id, body={"title": "T", "hookDurationSec": duration}
    )
    patch_reply = api(
        "PATCH", f"/api/tracks/{artist.track_id}", user=artist.user_id, body={"hookDurationSec": duration}
    )

    for status, body, _ in (create_reply, patch_reply):
        assert (status, body["code"]) == (422, "VALIDATION_FAILED")
        assert [detail["field"] for detail in body["details"]] == ["body.hookDurationSec"]
    assert get_track(api, artist.track_id)["hookDurationSec"] == 15
    assert [track["id"] for track in artist_tracks(api, artist.user_id)] == [artist.track_id]


@pytest.mark.parametrize("duration", [5, 30])
def test_hooks_of_exactly_5_and_30_seconds_are_accepted(api: Api, duration: int) -> None:
    track = create_track(api, create_profile(api), hookDurationSec=duration)["track"]

    assert track["hookDurationSec"] == duration


def test_a_hook_past_the_end_of_probed_audio_is_rejected(api: Api, media) -> None:
    # Given a track whose audio is known to last 8 seconds
    user = create_profile(api)
    track_id = upload_audio(api, user, media.audio(".mp3", seconds=8.0), "audio/mpeg", hookDurationSec=5)
    before = get_track(api, track_id)
    assert before["audio"]["durationSec"] == pytest.approx(8.0, abs=0.1)
    # When the artist moves the hook so that it would end at 12 s
    reply = api("PATCH", f"/api/tracks/{track_id}", user=user, body={"previewStartSec": 7})
    # Then it is refused and nothing changed
    assert error_code(reply) == (400, "INVALID_HOOK")
    assert get_track(api, track_id) == before


def test_a_hook_inside_probed_audio_is_saved(api: Api, media) -> None:
    user = create_profile(api)
    track_id = upload_audio(api, user, media.audio(".mp3", seconds=8.0), "audio/mpeg", hookDurationSec=5)

    status, body, _ = api(
        "PATCH", f"/api/tracks/{track_id}", user=user, body={"previewStartSec": 2.5, "title": "Renamed"}
    )

    assert status == 200
    assert (body["previewStartSec"], body["hookDurationSec"], body["title"]) == (2.5, 5, "Renamed")
    assert get_track(api, track_id) == body


def test_a_hook_chosen_past_short_audio_is_fitted_into_it_by_the_probe(api: Api, media) -> None:
    # Given a track created with a hook at 20-25 s, before its audio is known
    user = create_profile(api)
    # When its audio turns out to last only 8 seconds
    track_id = upload_audio(
        api, user, media.audio(".mp3", seconds=8.0), "audio/mpeg", previewStartSec=20, hookDurationSec=5
    )
    # Then the probe keeps the hook's length and moves it to end where the audio ends
    track = get_track(api, track_id)
    duration = track["audio"]["durationSec"]
    assert track["audio"]["status"] == "READY"
    assert track["hookDurationSec"] == 5
    assert track["previewStartSec"] == pytest.approx(duration - 5)


@pytest.mark.parametrize(("suffix", "content_type"), [(".mp3", "audio/mpeg"), (".aac", "audio/aac")])
def test_a_hook_can_end_exactly_where_audio_without_a_length_header_ends(
    api: Api, media, suffix: str, content_type: str
) -> None:
    # Given a track whose audio (VBR MP3 without a Xing frame, or ADTS AAC) lasts 8 s, which its
    # container estimates at several times that
    user = create_profile(api)
    data = media.quiet_intro_audio(suffix, seconds=8.0)
    track_id = upload_audio(api, user, data, content_type, hookDurationSec=5)
    track = get_track(api, track_id)
    duration = track["audio"]["durationSec"]
    assert track["audio"]["status"] == "READY"
    assert duration == pytest.approx(8.0, abs=0.06)
    # When the artist puts the hook at the very end, it is saved
    start = round(duration - 5, 3)
    status, body, _ = api("PATCH", f"/api/tracks/{track_id}", user=user, body={"previewStartSec": start})
    assert (status, body["previewStartSec"]) == (200, start)
    # And a hook ending 0.1 s past the real end is refused
    reply = api("PATCH", f"/api/tracks/{track_id}", user=user, body={"previewStartSec": start + 0.1})
    assert error_code(reply) == (400, "INVALID_HOOK")
    assert get_track(api, track_id)["previewStartSec"] == start


# Ownership and lookups


def test_only_the_tracks_artist_may_update_it(api: Api, artist: Artist) -> None:
    other_artist = create_profile(api)

    reply = api("PATCH", f"/api/tracks/{artist.track_id}", user=other_artist, body={"title": "Hijacked"})

    assert error_code(reply) == (403, "NOT_TRACK_OWNER")
    assert get_track(api, artist.track_id)["title"] == "A song"


def test_an_unknown_track_is_not_found(api: Api, artist: Artist) -> None:
    unknown = "0" * 26

    assert error_code(api("GET", f"/api/tracks/{unknown}")) == (404, "TRACK_NOT_FOUND")
    assert error_code(api("PATCH", f"/api/tracks/{unknown}", user=artist.user_id, body={"title": "x"})) == (
        404,
        "TRACK_NOT_FOUND",
    )


def test_an_artists_tracks_are_listed_newest_first(api: Api) -> None:
    # Given an artist with three tracks made one after another, and another artist with one
    user = create_profile(api)
    made = [create_track(api, user, title=f"Track {n}")["track"]["id"] for n in range(3)]
    create_track(api, create_profile(api))
    # When anyone lists the artist's tracks
    listed = artist_tracks(api, user)
    # Then they get exactly that artist's tracks, newest first; limit keeps the newest
    assert [track["id"] for track in listed] == made[::-1]
    assert [track["title"] for track in listed] == ["Track 2", "Track 1", "Track 0"]
    assert [track["id"] for track in artist_tracks(api, user, limit="2")] == made[:0:-1]


def test_an_artist_without_tracks_has_an_empty_list(api: Api) -> None:
    assert artist_tracks(api, fresh("nobody-")) == []


@pytest.mark.parametrize(
    ("audio", "refusal"),
    [
        ({"audioContentType": "application/pdf"}, (400, "UNSUPPORTED_MEDIA_TYPE")),
        (
            {"audioContentType": "audio/mpeg", "audioUploadKey": "uploads/audio/x/y.mp3"},
            (400, "INVALID_AUDIO_SOURCE"),
        ),
        (
            {"audioUploadKey": "uploads/audio/someone-else/01jdw0000000000000000000aa.mp3"},
            (403, "UPLOAD_NOT_OWNED"),
        ),
    ],
    ids=["unsupported-type", "both-sources", "someone-elses-upload"],
)
def test_a_refused_track_creation_leaves_no_track_behind(
    api: Api, audio: dict, refusal: tuple[int, str]
) -> None:
    # Regression: create_track used to write the track before checking its audio source (fixed in 527755f)
    # Given an artist with no tracks
    user = create_profile(api)
    # When they create a track whose audio source is refused
    reply = api("POST", "/api/tracks", user=user, body={"title": "Orphan", **audio})
    assert error_code(reply) == refusal
    # Then no track exists: the request failed as a whole
    assert artist_tracks(api, user) == []
