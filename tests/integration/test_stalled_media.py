"""Nothing stays PROCESSING forever. Through the real handlers on moto: an upload that never arrives is
failed by the scheduled sweep (UPLOAD_NEVER_ARRIVED), a probe that crashes on every attempt reaches its
on-failure destination and the record ends FAILED (PROBE_FAILED), a copy that fails after the record was
written ends it FAILED (COPY_FAILED), and the owner can archive a PROCESSING visual."""

from datetime import timedelta
from typing import Any

import pytest

from casset.errors import Unavailable
from casset.services import stalled_media
from infra.local.functions import invoke
from infra.local.scheduler import scheduled_event
from tests.integration.support import (
    Api,
    Artist,
    Media,
    create_profile,
    create_track,
    error_code,
    get_track,
    put_object,
    start_visual,
    studio_visual,
    track_item,
    upload_media,
    visual_item,
)

# The presigned POST lives UPLOAD_URL_TTL_SEC (900 s), then UPLOAD_GRACE_SEC (900 s) more.
PAST_THE_DEADLINE = timedelta(seconds=1801)


def sweep(plan: Any, monkeypatch: pytest.MonkeyPatch, later: timedelta) -> dict[str, int]:
    """Run the scheduled UploadExpiryFunction as EventBridge would, `later` from now."""
    now = stalled_media.utcnow() + later
    monkeypatch.setattr(stalled_media, "utcnow", lambda: now)
    spec = plan.functions["UploadExpiryFunction"]
    result: dict[str, int] = invoke(spec, scheduled_event("UploadExpiryFunction"))
    return result


# Uploads that never arrive


def test_a_visual_whose_upload_never_arrives_ends_failed_after_its_deadline(
    api: Api, aws: Any, artist: Artist, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a visual waiting for an upload that never comes
    visual_id = start_visual(api, artist.user_id, artist.track_id)["visual"]["id"]
    assert "uploadDeadline" in visual_item(visual_id)
    # When the sweep runs before the link expired plus the grace, nothing changes
    sweep(aws, monkeypatch, timedelta(seconds=1700))
    assert studio_visual(api, artist.user_id, visual_id)["status"] == "PROCESSING"
    # When it runs after
    sweep(aws, monkeypatch, PAST_THE_DEADLINE)
    # Then the visual is FAILED with the reason, and off the sweep's index
    visual = studio_visual(api, artist.user_id, visual_id)
    assert (visual["status"], visual["failureReason"]) == ("FAILED", "UPLOAD_NEVER_ARRIVED")
    assert "uploadDeadline" not in visual_item(visual_id)
    assert "uploadDeadlineDay" not in visual_item(visual_id)


def test_track_audio_whose_upload_never_arrives_ends_failed(
    api: Api, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = create_profile(api)
    track_id = create_track(api, user, audioContentType="audio/mpeg")["track"]["id"]

    sweep(aws, monkeypatch, PAST_THE_DEADLINE)

    audio = get_track(api, track_id)["audio"]
    assert (audio["status"], audio["failureReason"]) == ("FAILED", "UPLOAD_NEVER_ARRIVED")
    assert "uploadDeadline" not in track_item(track_id)


def test_an_upload_that_arrived_is_left_to_the_probe(
    api: Api, aws: Any, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a visual whose bytes arrived, and one that reached READY
    from moto.awslambda.models import LambdaFunction

    waiting = start_visual(api, artist.user_id, artist.track_id)
    with monkeypatch.context() as patch:  # the S3 event is not delivered: the probe has not run yet
        patch.setattr(LambdaFunction, "_invoke_lambda", lambda self, event=None: ("", False, ""))
        put_object(waiting["upload"]["key"], media.clip, "video/mp4")
    ready = start_visual(api, artist.user_id, artist.track_id)
    put_object(ready["upload"]["key"], media.clip, "video/mp4")
    assert "uploadDeadline" not in visual_item(ready["visual"]["id"])
    # When the sweep passes their deadline
    sweep(aws, monkeypatch, PAST_THE_DEADLINE)
    # Then neither is failed; the waiting one is off the index, the probe decides its outcome
    assert studio_visual(api, artist.user_id, waiting["visual"]["id"])["status"] == "PROCESSING"
    assert "uploadDeadline" not in visual_item(waiting["visual"]["id"])
    assert studio_visual(api, artist.user_id, ready["visual"]["id"])["status"] == "READY"


# The owner may archive a PROCESSING visual


def test_archiving_a_processing_visual_cancels_its_upload(api: Api, artist: Artist, media: Media) -> None:
    # Given a visual whose upload has not arrived
    created = start_visual(api, artist.user_id, artist.track_id)
    visual_id = created["visual"]["id"]
    path = f"/api/tracks/{artist.track_id}/visuals/{visual_id}"
    # When the artist archives it
    status, body, _ = api("POST", f"{path}/archive", user=artist.user_id)
    # Then it is archived, and off the sweep's index
    assert (status, body["status"]) == (200, "ARCHIVED")
    assert "uploadDeadline" not in visual_item(visual_id)
    # And an upload landing afterwards is not probed into it
    put_object(created["upload"]["key"], media.clip, "video/mp4")
    assert studio_visual(api, artist.user_id, visual_id)["status"] == "ARCHIVED"
    # And unarchived, it comes back FAILED: its upload was cancelled
    status, body, _ = api("POST", f"{path}/unarchive", user=artist.user_id)
    assert (status, body["status"], body["failureReason"]) == (200, "FAILED", "UPLOAD_CANCELLED")


def test_a_visual_archived_before_anything_was_uploaded_unarchives_failed(api: Api, artist: Artist) -> None:
    # Given a visual archived while its upload had not arrived (no object in the bucket at all)
    created = start_visual(api, artist.user_id, artist.track_id)
    path = f"/api/tracks/{artist.track_id}/visuals/{created['visual']['id']}"
    assert api("POST", f"{path}/archive", user=artist.user_id)[0] == 200
    # When the artist unarchives it (S3 answers NoSuchKey when its lifecycle tags are removed)
    status, body, _ = api("POST", f"{path}/unarchive", user=artist.user_id)
    # Then it comes back FAILED, its upload cancelled, and a second unarchive is refused
    assert (status, body["status"], body["failureReason"]) == (200, "FAILED", "UPLOAD_CANCELLED")
    status, body, _ = api("POST", f"{path}/unarchive", user=artist.user_id)
    assert (status, body["code"]) == (409, "VISUAL_NOT_ARCHIVED")


# A probe that crashes on every attempt


def test_a_probe_that_crashes_on_every_attempt_ends_the_record_failed(
    api: Api, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.services import probing

    attempts: list[str] = []

    def crashing(path: str, **limits: Any) -> Any:
        attempts.append(path)
        raise MemoryError("the probe ran out of memory")

    monkeypatch.setattr(probing, "probe_video", crashing)
    created = start_visual(api, artist.user_id, artist.track_id)
    # When its upload lands and the probe crashes on the first attempt and both retries
    put_object(created["upload"]["key"], media.clip, "video/mp4")
    # Then the event reached the on-failure queue and the visual is FAILED with the reason
    assert len(attempts) == 3
    visual = studio_visual(api, artist.user_id, created["visual"]["id"])
    assert (visual["status"], visual["failureReason"]) == ("FAILED", "PROBE_FAILED")
    assert "MemoryError" in visual_item(created["visual"]["id"])["failureMessage"]["S"]


def test_track_audio_the_probe_crashes_on_ends_failed(
    api: Api, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.services import probing

    def crashing(path: str, **limits: Any) -> Any:
        raise RuntimeError("segfault in a codec, as far as Lambda can tell")

    monkeypatch.setattr(probing, "probe_audio", crashing)
    user = create_profile(api)
    created = create_track(api, user, audioContentType="audio/wav")
    put_object(created["audioUpload"]["key"], media.audio(".wav"), "audio/wav")
    audio = get_track(api, created["track"]["id"])["audio"]
    assert (audio["status"], audio["failureReason"]) == ("FAILED", "PROBE_FAILED")


def test_a_probe_failure_for_a_record_that_moved_on_changes_nothing(
    api: Api, artist: Artist, media: Media
) -> None:
    # Given a visual the probe made READY
    created = start_visual(api, artist.user_id, artist.track_id)
    put_object(created["upload"]["key"], media.clip, "video/mp4")
    # When a late failure record for its key arrives, it is left READY
    assert not stalled_media.give_up_probe(created["upload"]["key"], "late")
    assert studio_visual(api, artist.user_id, created["visual"]["id"])["status"] == "READY"


# A copy that fails after the record was written


def test_a_visual_whose_copy_fails_ends_failed(
    api: Api, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import storage

    upload_key = upload_media(api, artist.user_id, media.clip, "video/mp4")

    def failing_copy(*args: Any) -> None:
        raise Unavailable("Storage is busy; retry shortly.")

    monkeypatch.setattr(storage, "copy", failing_copy)
    reply = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": upload_key}
    )
    assert error_code(reply) == (503, "UNAVAILABLE")
    _, page, _ = api("GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id)
    (visual,) = [item for item in page["items"] if item["status"] != "READY"]
    assert (visual["status"], visual["failureReason"]) == ("FAILED", "COPY_FAILED")


def test_track_audio_whose_copy_fails_ends_failed(
    api: Api, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import storage

    user = create_profile(api)
    track_id = create_track(api, user)["track"]["id"]
    upload_key = upload_media(api, user, media.audio(".wav"), "audio/wav")

    def failing_copy(*args: Any) -> None:
        raise Unavailable("Storage is busy; retry shortly.")

    monkeypatch.setattr(storage, "copy", failing_copy)
    reply = api("POST", f"/api/tracks/{track_id}/audio", user=user, body={"audioUploadKey": upload_key})
    assert error_code(reply) == (503, "UNAVAILABLE")
    audio = get_track(api, track_id)["audio"]
    assert (audio["status"], audio["failureReason"]) == ("FAILED", "COPY_FAILED")
