"""A hook preview that cannot be cut is a terminal state with a reason: /preview and fans' /audio say so
(409 PREVIEW_FAILED) instead of "being cut" forever, and the cut is tried again only when its cause can
have gone away: new audio or a new hook."""

from typing import Any

import pytest

from casset.data import queue
from tests.integration.support import (
    Api,
    create_profile,
    create_track,
    fresh,
    put_object,
    track_item,
)


@pytest.fixture
def preview_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The track ids a preview cut is queued for while the test runs (the cut still runs)."""
    queued: list[str] = []
    real = queue.enqueue_preview

    def counting(track_id: str) -> None:
        queued.append(track_id)
        real(track_id)

    monkeypatch.setattr(queue, "enqueue_preview", counting)
    return queued


def preview(api: Api, track_id: str) -> tuple[int, Any]:
    status, body, _ = api("GET", f"/api/tracks/{track_id}/preview")
    return status, body


def test_a_preview_that_cannot_be_cut_says_so_and_is_retried_only_for_new_audio_or_hook(
    api: Api, media, preview_requests: list[str]
) -> None:
    # Given a track whose audio the probe accepts (its start decodes) but whose hook cannot be decoded
    artist = create_profile(api)
    created = create_track(api, artist, audioContentType="audio/mp4", previewStartSec=3, hookDurationSec=5)
    track_id = created["track"]["id"]
    put_object(created["audioUpload"]["key"], media.audio_corrupt_after_2s, "audio/mp4")
    assert track_item(track_id)["audioStatus"] == {"S": "READY"}
    # Then the preview and a fan's audio answer that the cut failed, with the reason, not "try again"
    status, body = preview(api, track_id)
    assert (status, body["code"], body["details"]) == (409, "PREVIEW_FAILED", [{"reason": "CORRUPT"}])
    status, body, _ = api("GET", f"/api/tracks/{track_id}/audio", user=fresh("fan-"))
    assert (status, body["code"]) == (409, "PREVIEW_FAILED")
    assert preview_requests == [track_id]
    # When the artist changes something that is not the audio or the hook, no cut is queued again
    api("PATCH", f"/api/tracks/{track_id}", user=artist, body={"title": "Renamed"})
    assert preview_requests == [track_id]
    # When the hook changes, the cut is tried again (and fails again, for the new hook)
    api("PATCH", f"/api/tracks/{track_id}", user=artist, body={"previewStartSec": 2})
    assert preview_requests == [track_id, track_id]
    assert track_item(track_id)["previewFailedSource"]["S"].split("|")[1] == "2.000"
    # When new, decodable audio replaces it, the preview is cut and served
    status, replaced, _ = api(
        "POST", f"/api/tracks/{track_id}/audio", user=artist, body={"audioContentType": "audio/wav"}
    )
    assert status == 200, replaced
    put_object(replaced["audioUpload"]["key"], media.audio(".wav", seconds=8.0), "audio/wav")
    status, body = preview(api, track_id)
    assert (status, body["access"], body["startSec"]) == (200, "PREVIEW", 2.0)
    assert "previewFailedSource" not in track_item(track_id)


def test_audio_that_failed_its_probe_answers_audio_failed(api: Api, media) -> None:
    artist = create_profile(api)
    created = create_track(api, artist, audioContentType="audio/mpeg")
    put_object(created["audioUpload"]["key"], media.png, "audio/mpeg")
    status, body = preview(api, created["track"]["id"])
    assert (status, body["code"], body["details"]) == (
        409,
        "AUDIO_FAILED",
        [{"reason": "UNSUPPORTED_FORMAT"}],
    )


def test_a_cut_whose_message_exhausted_its_deliveries_is_recorded_failed(
    api: Api, aws: Any, media, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import boto3

    # Given a track with probed audio whose cut kept failing for a transient reason (no clip yet)
    artist = create_profile(api)
    created = create_track(api, artist, audioContentType="audio/wav", hookDurationSec=5)
    track_id = created["track"]["id"]
    with monkeypatch.context() as patch:
        patch.setattr(queue, "enqueue_preview", lambda track_id: None)
        put_object(created["audioUpload"]["key"], media.audio(".wav", seconds=8.0), "audio/wav")
    assert preview(api, track_id)[1]["code"] == "PREVIEW_NOT_READY"
    # When its message reaches the preview dead-letter queue
    (dead_letters,) = [q for q in aws.queues if q.logical_id == "PreviewDeadLetterQueue"]
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=dead_letters.name)["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"trackId": track_id}))
    # Then the preview says the cut failed, and why
    status, body = preview(api, track_id)
    assert (status, body["code"], body["details"]) == (
        409,
        "PREVIEW_FAILED",
        [{"reason": "PREVIEW_RETRIES_EXHAUSTED"}],
    )
    # And a new hook cuts again
    api("PATCH", f"/api/tracks/{track_id}", user=artist, body={"previewStartSec": 1})
    assert preview(api, track_id)[0] == 200
