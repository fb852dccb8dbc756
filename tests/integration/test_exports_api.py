"""The export path on moto with the real handlers: the API queues a job on SQS, moto's event source
mapping runs the real render handler (inline in tests), the MP4 lands in S3, the job is DONE."""

import io
import os
from datetime import timedelta
from typing import Any

import av
import boto3
import pytest

from tests.conftest import Api, FeatureFlagsFile
from tests.media_factory import make_audio, make_video

ARTIST = "export-artist"


def _put(key: str, data: bytes, content_type: str) -> None:
    boto3.client("s3").put_object(
        Bucket=os.environ["MEDIA_BUCKET"], Key=key, Body=data, ContentType=content_type
    )


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("export-media")
    return {
        "audio": make_audio(folder / "song.wav", seconds=12.0).read_bytes(),
        "visual": make_video(folder / "loop.mp4", seconds=2.0, width=180, height=320).read_bytes(),
    }


@pytest.fixture
def track(api: Api, media: dict[str, bytes]) -> dict[str, Any]:
    profile = {"handle": "exporter", "displayName": "Exporter", "isArtist": True}
    assert api("POST", "/api/users", user=ARTIST, body=profile)[0] in {
        201,
        409,
    }  # 409: made by an earlier test
    status, created, _ = api(
        "POST", "/api/tracks", user=ARTIST, body={"title": "Hook", "audioContentType": "audio/wav"}
    )
    assert status == 201
    _put(created["audioUpload"]["key"], media["audio"], "audio/wav")
    return api("GET", f"/api/tracks/{created['track']['id']}")[1]


def _ready_visual(api: Api, track_id: str, media: dict[str, bytes], *, activate: bool) -> str:
    _, created, _ = api(
        "POST", f"/api/tracks/{track_id}/visuals", user=ARTIST, body={"contentType": "video/mp4"}
    )
    _put(created["upload"]["key"], media["visual"], "video/mp4")
    visual_id = created["visual"]["id"]
    if activate:
        assert (
            api(
                "PATCH",
                f"/api/tracks/{track_id}/visuals/{visual_id}/active",
                user=ARTIST,
                body={"active": True},
            )[0]
            == 200
        )
    return visual_id


def _export(api: Api, track_id: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """As the artist, who may choose any window of their track (casset.paywall)."""
    body = {"trackId": track_id, "hookStartSec": 2, "hookDurationSec": 5, **extra}
    status, job, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    return status, job


def _pin_rate_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiter's clock a minute into an hour no other test uses, so every budget starts empty."""
    from casset.data import rate_limits

    hour = 2_000_000_000 - 2_000_000_000 % 3600 + 3600 * int.from_bytes(os.urandom(3))
    monkeypatch.setattr(rate_limits, "time", type("Clock", (), {"time": staticmethod(lambda: hour + 60.0)}))


def _only_export_of(track_id: str) -> dict[str, Any]:
    """The track's one export job as stored (a test-only scan of a small moto table)."""
    items = boto3.client("dynamodb").scan(TableName=os.environ["EXPORTS_TABLE"])["Items"]
    [item] = [item for item in items if item["plan"]["M"]["trackId"]["S"] == track_id]
    return item


def _download(url: str) -> bytes:
    key = url.split(".amazonaws.com/", 1)[1].split("?", 1)[0]
    return boto3.client("s3").get_object(Bucket=os.environ["MEDIA_BUCKET"], Key=key)["Body"].read()


def test_an_export_renders_the_active_visual_and_leaves_counting_to_the_client_event(
    api: Api, track: dict, media: dict
) -> None:
    visual_id = _ready_visual(api, track["id"], media, activate=True)

    status, queued = _export(api, track["id"])
    assert status == 202
    job = api("GET", f"/api/exports/{queued['id']}", user=ARTIST)[1]

    assert job["status"] == "DONE", job
    assert job["progress"] == 100 and job["visualAssetId"] == visual_id
    assert job["output"]["width"] == 1080 and job["output"]["height"] == 1920
    assert job["output"]["durationSec"] == pytest.approx(5.0, abs=1 / 30 + 0.03)
    with av.open(io.BytesIO(_download(job["downloadUrl"]))) as container:
        assert {stream.type for stream in container.streams} == {"video", "audio"}
    # Counters come only from client-fired events through the metrics pipeline, not from the render.
    assert api("GET", f"/api/visuals/{visual_id}")[1]["metrics"]["exports"] == 0
    assert api("POST", f"/api/me/visuals/{visual_id}/event", user=ARTIST, body={"type": "export"})[0] == 202
    assert api("GET", f"/api/visuals/{visual_id}")[1]["metrics"]["exports"] == 1


def test_the_same_request_again_is_a_cache_hit_and_renders_nothing(
    api: Api, track: dict, media: dict
) -> None:
    _ready_visual(api, track["id"], media, activate=True)
    _, first = _export(api, track["id"])
    status, again = _export(api, track["id"])
    assert status == 200
    assert again["id"] == first["id"] and again["status"] == "DONE" and again["downloadUrl"]
    assert again["finishedAt"] == api("GET", f"/api/exports/{first['id']}", user=ARTIST)[1]["finishedAt"]


def test_any_changed_input_is_a_different_export(api: Api, track: dict, media: dict) -> None:
    _, base = _export(api, track["id"])
    _, other_hook = _export(api, track["id"], hookStartSec=3)
    _, other_preset = _export(api, track["id"], preset="low")
    _, with_url = _export(api, track["id"], shareUrl="https://casset.fm/s/abc")
    assert len({base["id"], other_hook["id"], other_preset["id"], with_url["id"]}) == 4


def test_without_any_visual_the_cover_treatment_is_rendered(api: Api, track: dict) -> None:
    _, job = _export(api, track["id"])
    job = api("GET", f"/api/exports/{job['id']}", user=ARTIST)[1]
    assert job["status"] == "DONE" and job["visualAssetId"] is None


def test_with_visual_pairing_off_for_the_artist_the_active_visual_gives_way_to_the_cover(
    api: Api, track: dict, media: dict, feature_flags: FeatureFlagsFile
) -> None:
    _ready_visual(api, track["id"], media, activate=True)
    feature_flags.disable("visual_pairing_v1")

    status, queued = _export(api, track["id"])

    assert status == 202, queued
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ["EXPORTS_TABLE"], Key={"id": {"S": queued["id"]}}, ConsistentRead=True
    )["Item"]
    assert {"visualId", "visualKey"}.isdisjoint(item["plan"]["M"])  # no visual in the plan
    job = api("GET", f"/api/exports/{queued['id']}", user=ARTIST)[1]
    assert job["status"] == "DONE" and job["visualAssetId"] is None


def test_a_hook_beyond_the_audio_is_refused_before_queueing(api: Api, track: dict) -> None:
    status, body = _export(api, track["id"], hookStartSec=10, hookDurationSec=5)
    assert status == 400 and body["code"] == "INVALID_HOOK"


def test_a_visual_of_another_track_is_not_found(api: Api, track: dict) -> None:
    status, body = _export(api, track["id"], visualAssetId="0" * 26)
    assert status == 404 and body["code"] == "VISUAL_NOT_FOUND"


def test_exporting_needs_a_signed_in_caller(api: Api, track: dict) -> None:
    status, body, _ = api(
        "POST",
        "/api/hooks/tiktok-video",
        body={"trackId": track["id"], "hookStartSec": 0, "hookDurationSec": 5},
    )
    assert status == 401 and body["code"] == "UNAUTHORIZED"


def test_unknown_exports_are_404(api: Api) -> None:
    status, body, _ = api("GET", "/api/exports/nope", user=ARTIST)
    assert status == 404 and body["code"] == "EXPORT_NOT_FOUND"


def test_an_export_left_queued_without_its_message_is_sent_again_by_a_later_identical_request(
    api: Api, track: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from casset.data import queue
    from casset.errors import Unavailable
    from casset.services import exports

    # Given an export request whose send to the render queue fails, and so does ending the job (the
    # database is unavailable too; a request that dies between the write and the send is the same): 503,
    # the job stays QUEUED
    def database_down(*args: Any) -> bool:
        raise Unavailable("down too")

    monkeypatch.setattr(exports.exports_data, "fail_unsent", database_down)
    real_sqs = queue._sqs()
    sends: list[str] = []

    class FailingSqs:
        def send_message(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")

    class CountingSqs:
        def send_message(self, **kwargs: Any) -> Any:
            sends.append(kwargs["MessageBody"])
            return real_sqs.send_message(**kwargs)

    monkeypatch.setattr(queue, "_sqs", lambda: FailingSqs())
    body = {"trackId": track["id"], "hookStartSec": 1, "hookDurationSec": 5, "preset": "low"}
    status, _, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    assert status == 503
    monkeypatch.undo()
    monkeypatch.setattr(queue, "_sqs", lambda: CountingSqs())
    # When the same export is asked for again at once, the job is still fresh: nothing is sent
    status, job, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    assert (status, job["status"], sends) == (202, "QUEUED", [])
    # When it is asked for again once it has waited longer than EXPORT_RESEND_AFTER_SEC (10 s)
    later = exports.utcnow() + timedelta(seconds=11)
    monkeypatch.setattr(exports, "utcnow", lambda: later)
    status, job, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    # Then its message is sent once more and the render runs
    assert len(sends) == 1
    assert api("GET", f"/api/exports/{job['id']}", user=ARTIST)[1]["status"] == "DONE"


def test_an_export_whose_queue_send_failed_ends_failed_refunded_and_renders_when_asked_again(
    api: Api, track: dict, monkeypatch: pytest.MonkeyPatch, settings_env: Any
) -> None:
    from botocore.exceptions import ClientError

    from casset.data import queue

    # Given a budget of one render (in an hour of its own: the artist renders in other tests too), and
    # a first request whose send to the render queue fails
    settings_env(EXPORT_RENDERS_PER_HOUR="1")
    _pin_rate_clock(monkeypatch)
    real_sqs = queue._sqs()

    class FailingSqs:
        def send_message(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")

    monkeypatch.setattr(queue, "_sqs", lambda: FailingSqs())
    body = {"trackId": track["id"], "hookStartSec": 1.5, "hookDurationSec": 5, "preset": "low"}
    status, _, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    assert status == 503
    # Then nothing waits for a message nobody sends: the job ended FAILED, out of the in-flight index
    stored = _only_export_of(track["id"])
    assert stored["status"]["S"] == "FAILED" and stored["failureReason"]["S"] == "RENDER_QUEUE_UNAVAILABLE"
    assert "inFlight" not in stored and "inFlightSince" not in stored
    # When the queue is back and the same export is asked for again
    monkeypatch.setattr(queue, "_sqs", lambda: real_sqs)
    status, job, _ = api("POST", "/api/hooks/tiktok-video", user=ARTIST, body=body)
    # Then it renders: the failed send was refunded, so the budget of one still had room
    assert status == 202, job
    assert api("GET", f"/api/exports/{job['id']}", user=ARTIST)[1]["status"] == "DONE"


def test_only_one_of_two_racing_requests_claims_the_resend(aws: Any) -> None:
    from casset.data import exports as exports_data
    from casset.entities import RenderPlan

    # Given a QUEUED job read by two requests at the same moment
    plan = RenderPlan(
        renderer_version="test",
        track_id="t-resend",
        audio_key="tracks/t/audio/a.wav",
        hook_start_sec=0,
        hook_duration_sec=5,
        title="Lost",
        artist="Someone",
        preset="low",
    )
    job, created = exports_data.create_export(f"resend-{os.urandom(4).hex()}", plan, "a-fan")
    assert created
    # When both claim the re-send, only the first wins
    assert [exports_data.claim_resend(job), exports_data.claim_resend(job)] == [True, False]
