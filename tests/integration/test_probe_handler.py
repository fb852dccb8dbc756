"""The probe Lambda called directly with S3 ObjectCreated events (the sample in events/, re-keyed):
re-deliveries, keys it does not own, URL-encoded keys, superseded uploads and batches."""

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.support import (
    Api,
    Artist,
    Media,
    add_visual,
    create_track,
    get_track,
    load_event,
    object_tags,
    put_object,
    start_visual,
    studio_visual,
    track_item,
    visual_item,
)

UNKNOWN_ID = "01jdw0000000000000000000zz"


def s3_event(*keys: str) -> dict[str, Any]:
    """The sample S3 event with one record per key (keys are used as given: S3 sends them encoded)."""
    from casset.settings import get_settings

    event = load_event("s3-visual-uploaded.json")
    template = event["Records"][0]
    template["s3"]["bucket"]["name"] = get_settings().media_bucket
    event["Records"] = []
    for key in keys:
        record = copy.deepcopy(template)
        record["s3"]["object"]["key"] = key
        event["Records"].append(record)
    return event


def probe(*keys: str) -> list[dict[str, str]]:
    from infra.local.functions import LambdaContext
    from probe.handler import lambda_handler

    return list(lambda_handler(s3_event(*keys), LambdaContext("probe", 2048, 120))["results"])


def outcomes(*keys: str) -> list[str]:
    return [result["outcome"] for result in probe(*keys)]


@pytest.fixture
def quietly(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Put objects without moto delivering the S3 notification, so the test delivers it itself."""

    @contextmanager
    def no_notifications() -> Iterator[None]:
        from moto.awslambda.models import LambdaFunction

        with monkeypatch.context() as patch:
            patch.setattr(LambdaFunction, "_invoke_lambda", lambda self, event=None: ("", False, ""))
            yield

    return no_notifications


def waiting_visual(api: Api, artist: Artist, data: bytes, quietly: Any) -> tuple[str, str]:
    """A PROCESSING visual whose bytes are in the bucket but whose S3 event has not been delivered."""
    created = start_visual(api, artist.user_id, artist.track_id)
    key = created["upload"]["key"]
    with quietly():
        put_object(key, data, "video/mp4")
    assert studio_visual(api, artist.user_id, created["visual"]["id"])["status"] == "PROCESSING"
    return created["visual"]["id"], key


# Re-delivered events


def test_a_redelivered_event_for_a_ready_visual_changes_nothing(
    api: Api, artist: Artist, media: Media
) -> None:
    # Given a visual the probe already made READY
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)
    key = f"visuals/{artist.track_id}/{visual['id']}/source.mp4"
    before = visual_item(visual["id"])
    assert before["status"] == {"S": "READY"}
    # When S3 delivers the same event again
    results = probe(key)
    # Then the probe recognises it and writes nothing (updatedAt included)
    assert results == [{"key": key, "outcome": "ALREADY_PROCESSED"}]
    assert visual_item(visual["id"]) == before


def test_a_redelivered_event_for_a_failed_visual_changes_nothing(api: Api, artist: Artist) -> None:
    visual = add_visual(api, artist.user_id, artist.track_id, b"not a video at all" * 10)
    before = visual_item(visual["id"])
    assert before["status"] == {"S": "FAILED"}

    assert outcomes(f"visuals/{artist.track_id}/{visual['id']}/source.mp4") == ["ALREADY_PROCESSED"]
    assert visual_item(visual["id"]) == before


def test_a_redelivered_event_for_ready_audio_changes_nothing(api: Api, artist: Artist, media: Media) -> None:
    created = create_track(api, artist.user_id, audioContentType="audio/mpeg")
    key, track_id = created["audioUpload"]["key"], created["track"]["id"]
    put_object(key, media.audio(".mp3"), "audio/mpeg")
    before = track_item(track_id)
    assert before["audioStatus"] == {"S": "READY"}

    assert outcomes(key) == ["ALREADY_PROCESSED"]
    assert track_item(track_id) == before


# Keys with no record, or that are not sources


def test_an_event_for_a_visual_nobody_created_is_dropped(artist: Artist) -> None:
    key = f"visuals/{artist.track_id}/{UNKNOWN_ID}/source.mp4"

    assert outcomes(key) == ["UNKNOWN_RECORD"]
    assert visual_item(UNKNOWN_ID) is None


def test_an_event_for_audio_of_a_track_nobody_created_is_dropped(api: Api) -> None:
    key = f"tracks/{UNKNOWN_ID}/audio/01jdw0000000000000000000yy.mp3"

    assert outcomes(key) == ["UNKNOWN_RECORD"]
    assert track_item(UNKNOWN_ID) is None


def test_an_event_naming_a_visual_under_the_wrong_track_is_dropped(
    api: Api, artist: Artist, quietly: Any, media: Media
) -> None:
    # Given a visual waiting for its upload
    visual_id, _ = waiting_visual(api, artist, media.clip, quietly)
    before = visual_item(visual_id)
    # When an event names that visual under another track's prefix
    other_track = create_track(api, artist.user_id)["track"]["id"]
    # Then it is not that visual's source, and the visual is untouched
    assert outcomes(f"visuals/{other_track}/{visual_id}/source.mp4") == ["UNKNOWN_RECORD"]
    assert visual_item(visual_id) == before


@pytest.mark.parametrize(
    "key",
    [
        "visuals/{track}/{visual}/poster.jpg",
        "tracks/{track}/cover/01jdw0000000000000000000yy.png",
        "uploads/video/someone/01jdw0000000000000000000yy.mp4",
        "visuals/{track}/{visual}/source",
        "visuals/{track}/{visual}/nested/source.mp4",
        "visuals/{TRACK}/{visual}/source.mp4",
    ],
    ids=["poster", "cover", "raw-upload", "no-extension", "nested", "uppercase-id"],
)
def test_an_event_for_a_key_that_is_not_a_source_is_ignored(
    api: Api, artist: Artist, media: Media, key: str
) -> None:
    # Given a READY visual (so its poster exists)
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)
    before = visual_item(visual["id"])
    # When an event arrives for a key the probe does not own
    key = key.format(track=artist.track_id, TRACK=artist.track_id.upper(), visual=visual["id"])
    # Then it is ignored and nothing changes
    assert outcomes(key) == ["NOT_A_SOURCE"]
    assert visual_item(visual["id"]) == before


# URL-encoded keys


def _encode_slashes(key: str) -> str:
    return quote(key, safe="")


def _encode_every_byte(key: str) -> str:
    return "".join(f"%{byte:02x}" for byte in key.encode())


@pytest.mark.parametrize("encode", [_encode_slashes, _encode_every_byte], ids=["slashes", "every-byte"])
def test_an_url_encoded_key_resolves_the_same_visual(
    api: Api, artist: Artist, quietly: Any, media: Media, encode: Any
) -> None:
    # Given a visual whose bytes arrived but whose event was not delivered yet
    visual_id, key = waiting_visual(api, artist, media.clip, quietly)
    # When the event arrives with its key URL-encoded, as S3 sends keys
    results = probe(encode(key))
    # Then the probe decodes it to the visual's key and makes the visual READY
    assert results == [{"key": key, "outcome": "READY"}]
    assert studio_visual(api, artist.user_id, visual_id)["status"] == "READY"


def test_an_url_encoded_audio_key_resolves_the_same_track(
    api: Api, artist: Artist, quietly: Any, media: Media
) -> None:
    created = create_track(api, artist.user_id, audioContentType="audio/wav")
    key, track_id = created["audioUpload"]["key"], created["track"]["id"]
    with quietly():
        put_object(key, media.audio(".wav"), "audio/wav")

    assert probe(_encode_every_byte(key)) == [{"key": key, "outcome": "READY"}]
    assert get_track(api, track_id)["audio"]["status"] == "READY"


# Outcomes the API cannot show on its own


def test_a_rejected_upload_is_tagged_for_the_purge_lifecycle_rule(
    api: Api, artist: Artist, quietly: Any
) -> None:
    visual_id, key = waiting_visual(api, artist, b"plain text pretending to be a video" * 4, quietly)

    assert outcomes(key) == ["FAILED"]
    assert visual_item(visual_id)["failureReason"] == {"S": "UNSUPPORTED_FORMAT"}
    assert object_tags(key) == {"status": "failed"}


def test_an_event_for_an_object_that_is_gone_fails_the_visual(api: Api, artist: Artist) -> None:
    # Given a visual whose upload never landed (or was deleted before the event was handled)
    created = start_visual(api, artist.user_id, artist.track_id)
    # When an event for its key arrives anyway
    assert outcomes(created["upload"]["key"]) == ["FAILED"]
    # Then it is FAILED with the reason saying so
    assert visual_item(created["visual"]["id"])["failureReason"] == {"S": "UPLOAD_NOT_FOUND"}


def test_audio_replaced_before_its_event_arrives_is_superseded(
    api: Api, artist: Artist, quietly: Any, media: Media
) -> None:
    # Given a track whose first audio upload landed quietly, then was replaced by a second target
    created = create_track(api, artist.user_id, audioContentType="audio/mpeg")
    first_key, track_id = created["audioUpload"]["key"], created["track"]["id"]
    with quietly():
        put_object(first_key, media.audio(".mp3"), "audio/mpeg")
    status, replaced, _ = api(
        "POST", f"/api/tracks/{track_id}/audio", user=artist.user_id, body={"audioContentType": "audio/wav"}
    )
    assert status == 200
    second_key = replaced["audioUpload"]["key"]
    assert second_key != first_key
    # When the first upload's event is delivered late
    assert outcomes(first_key) == ["SUPERSEDED"]
    # Then the track still waits for the second upload
    item = track_item(track_id)
    assert (item["audioStatus"], item["audioKey"]) == ({"S": "PROCESSING"}, {"S": second_key})


def test_each_record_of_a_batch_is_handled_on_its_own(
    api: Api, artist: Artist, quietly: Any, media: Media
) -> None:
    visual_id, key = waiting_visual(api, artist, media.clip, quietly)
    keys = [
        f"visuals/{artist.track_id}/{UNKNOWN_ID}/source.mp4",
        f"visuals/{artist.track_id}/{visual_id}/poster.jpg",
        key,
    ]

    assert outcomes(*keys) == ["UNKNOWN_RECORD", "NOT_A_SOURCE", "READY"]
    assert studio_visual(api, artist.user_id, visual_id)["status"] == "READY"
