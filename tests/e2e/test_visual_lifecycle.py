"""The V1 walk-through over plain HTTP against the local stack: what a frontend developer does."""

import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.media_factory import make_audio, make_corrupt_mp4, make_video

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


class Client:
    def __init__(self, base: str, token: str | None = None):
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, self.base + path, json=body, headers=self.headers, timeout=30)


def upload(target: dict, path: Path) -> requests.Response:
    """A browser-style multipart POST of the file with the presigned fields, straight to S3 (moto)."""
    with path.open("rb") as file:
        return requests.post(target["url"], data=target["fields"], files={"file": file}, timeout=60)


def wait_for(client: Client, path: str, field: str, pending: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = client.call("GET", path).json()
        status = body
        for part in field.split("."):
            status = status[part]
        if status != pending:
            return body
        time.sleep(0.2)
    raise AssertionError(f"{path} still {pending} after {timeout}s")


@pytest.fixture(scope="module")
def artist(stack: Any) -> Client:
    client = Client(stack.url, stack.token("e2e-artist"))
    response = client.call(
        "POST", "/api/users", {"handle": "e2e_artist", "displayName": "E2E", "isArtist": True}
    )
    assert response.status_code == 201, response.text
    return client


@pytest.fixture(scope="module")
def track(artist: Client, tmp_path_factory: pytest.TempPathFactory) -> dict:
    created = artist.call(
        "POST",
        "/api/tracks",
        {
            "title": "Night Drive",
            "previewStartSec": 1,
            "hookDurationSec": 5,
            "audioContentType": "audio/mpeg",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    audio = make_audio(tmp_path_factory.mktemp("audio") / "song.mp3", seconds=8.0)
    assert upload(body["audioUpload"], audio).status_code in {200, 201, 204}
    ready = wait_for(artist, f"/api/tracks/{body['track']['id']}", "audio.status", "PROCESSING")
    return ready


def test_audio_uploaded_through_presigned_post_is_probed(track: dict) -> None:
    assert track["audio"]["status"] == "READY"
    assert track["audio"]["durationSec"] == pytest.approx(8.0, abs=0.15)
    assert track["audio"]["channels"] in {1, 2}


def test_visual_goes_processing_to_ready_then_active_then_archived_and_back(
    artist: Client, track: dict, stack: Any, tmp_path: Path
) -> None:
    created = artist.call("POST", f"/api/tracks/{track['id']}/visuals", {"contentType": "video/mp4"})
    assert created.status_code == 201, created.text
    visual = created.json()["visual"]
    assert visual["status"] == "PROCESSING"

    assert upload(
        created.json()["upload"], make_video(tmp_path / "loop.mp4", seconds=2, width=180, height=320)
    ).ok
    ready = wait_for(artist, f"/api/studio/visuals/{visual['id']}", "status", "PROCESSING")
    assert ready["status"] == "READY"
    assert (ready["widthPx"], ready["heightPx"]) == (180, 320)
    assert requests.get(ready["posterUrl"], timeout=10).content[:2] == b"\xff\xd8"
    assert requests.get(ready["videoUrl"], timeout=10).content[4:8] == b"ftyp"

    anonymous = Client(stack.url)
    listed = anonymous.call("GET", f"/api/tracks/{track['id']}/visuals").json()
    assert [item["id"] for item in listed["items"]] == [visual["id"]]

    activated = artist.call(
        "PATCH", f"/api/tracks/{track['id']}/visuals/{visual['id']}/active", {"active": True}
    )
    assert activated.status_code == 200 and activated.json()["isActive"] is True
    assert anonymous.call("GET", f"/api/tracks/{track['id']}").json()["activeVisualId"] == visual["id"]

    archived = artist.call("POST", f"/api/tracks/{track['id']}/visuals/{visual['id']}/archive")
    assert archived.json()["status"] == "ARCHIVED"
    assert anonymous.call("GET", f"/api/tracks/{track['id']}/visuals").json()["items"] == []
    assert anonymous.call("GET", f"/api/tracks/{track['id']}").json()["activeVisualId"] is None

    restored = artist.call("POST", f"/api/tracks/{track['id']}/visuals/{visual['id']}/unarchive")
    assert restored.status_code == 200 and restored.json()["status"] == "READY"
    listed_again = anonymous.call("GET", f"/api/tracks/{track['id']}/visuals").json()
    assert [item["id"] for item in listed_again["items"]] == [visual["id"]]


def test_corrupt_visual_ends_failed_with_a_reason(artist: Client, track: dict, tmp_path: Path) -> None:
    created = artist.call("POST", f"/api/tracks/{track['id']}/visuals", {"contentType": "video/mp4"}).json()
    assert upload(created["upload"], make_corrupt_mp4(tmp_path / "broken.mp4")).ok
    failed = wait_for(artist, f"/api/studio/visuals/{created['visual']['id']}", "status", "PROCESSING")
    assert failed["status"] == "FAILED"
    assert failed["failureReason"] == "CORRUPT"


def test_anonymous_write_is_rejected_by_the_authorizer(stack: Any, track: dict) -> None:
    response = Client(stack.url).call(
        "POST", f"/api/tracks/{track['id']}/visuals", {"contentType": "video/mp4"}
    )
    assert response.status_code == 401


def test_a_forged_token_is_rejected(stack: Any) -> None:
    forged = Client(stack.url, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")
    assert forged.call("GET", "/api/users/me").status_code == 401


def test_another_user_cannot_change_the_artists_track(stack: Any, track: dict) -> None:
    intruder = Client(stack.url, stack.token("e2e-intruder"))
    response = intruder.call("PATCH", f"/api/tracks/{track['id']}", {"title": "mine now"})
    assert response.status_code == 403
    assert response.json()["code"] == "NOT_TRACK_OWNER"


def test_bad_json_is_a_400_with_a_code(artist: Client, stack: Any) -> None:
    response = requests.post(
        f"{stack.url}/api/tracks",
        data=b"{not json",
        headers={**artist.headers, "content-type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"


def test_cors_preflight_answers_from_the_template(stack: Any) -> None:
    response = requests.options(
        f"{stack.url}/api/tracks",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_swagger_ui_is_served_locally(stack: Any) -> None:
    response = requests.get(f"{stack.url}/swagger", timeout=10)
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


def test_export_is_queued_renders_in_process_with_progress_and_downloads(
    artist: Client, track: dict, tmp_path: Path
) -> None:
    created = artist.call("POST", f"/api/tracks/{track['id']}/visuals", {"contentType": "video/mp4"}).json()
    assert upload(created["upload"], make_video(tmp_path / "loop2.mp4", seconds=2, width=180, height=320)).ok
    wait_for(artist, f"/api/studio/visuals/{created['visual']['id']}", "status", "PROCESSING")

    request = {
        "trackId": track["id"],
        "hookStartSec": 0,
        "hookDurationSec": 8,
        "visualAssetId": created["visual"]["id"],
    }
    answered = artist.call("POST", "/api/hooks/tiktok-video", request)
    assert answered.status_code == 202, answered.text
    export_id = answered.json()["id"]

    seen: list[tuple[str, int]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = artist.call("GET", f"/api/exports/{export_id}").json()
        seen.append((job["status"], job["progress"]))
        if job["status"] in {"DONE", "FAILED"}:
            break
        time.sleep(0.1)
    assert job["status"] == "DONE", job
    assert any(status == "RENDERING" for status, _ in seen)
    progress = [percent for _, percent in seen]
    assert progress == sorted(progress) and progress[-1] == 100

    video = requests.get(job["downloadUrl"], timeout=30)
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert len(video.content) == job["output"]["sizeBytes"]

    again = artist.call("POST", "/api/hooks/tiktok-video", request)
    assert again.status_code == 200 and again.json()["id"] == export_id
