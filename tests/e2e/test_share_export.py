"""Share → open → export over plain HTTP against the local stack: a fan shares a hook with a visual that
is not the active one, the short link redirects with that visual and the sharer's cookie, and the export
asked with the share id renders that visual; once the artist archives it, the share falls back."""

import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e.test_visual_lifecycle import Client, upload, wait_for
from tests.media_factory import make_audio, make_video

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _profile(client: Client, *, artist: bool) -> None:
    handle = f"e2e_{uuid.uuid4().hex[:12]}"
    response = client.call("POST", "/api/users", {"handle": handle, "displayName": "E2E", "isArtist": artist})
    assert response.status_code == 201, response.text


def _ready_visual(artist: Client, track_id: str, path: Path) -> str:
    created = artist.call("POST", f"/api/tracks/{track_id}/visuals", {"contentType": "video/mp4"})
    assert created.status_code == 201, created.text
    assert upload(created.json()["upload"], make_video(path, seconds=2, width=180, height=320)).ok
    visual_id = created.json()["visual"]["id"]
    assert wait_for(artist, f"/api/studio/visuals/{visual_id}", "status", "PROCESSING")["status"] == "READY"
    return str(visual_id)


def _finished(client: Client, export_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.call("GET", f"/api/exports/{export_id}").json()
        if job["status"] in {"DONE", "FAILED"}:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"export {export_id} not finished after 120 s")


def test_a_share_opens_with_its_visual_and_exports_with_it_then_falls_back(
    stack: Any, tmp_path: Path
) -> None:
    artist = Client(stack.url, stack.token(f"e2e-share-artist-{uuid.uuid4().hex[:8]}"))
    fan = Client(stack.url, stack.token(f"e2e-share-fan-{uuid.uuid4().hex[:8]}"))
    _profile(artist, artist=True)
    _profile(fan, artist=False)
    created = artist.call(
        "POST",
        "/api/tracks",
        {"title": "Shared", "previewStartSec": 1, "hookDurationSec": 5, "audioContentType": "audio/mpeg"},
    )
    assert created.status_code == 201, created.text
    track_id = created.json()["track"]["id"]
    assert upload(created.json()["audioUpload"], make_audio(tmp_path / "song.mp3", seconds=8.0)).ok
    assert (
        wait_for(artist, f"/api/tracks/{track_id}", "audio.status", "PROCESSING")["audio"]["status"]
        == "READY"
    )
    shared_visual = _ready_visual(artist, track_id, tmp_path / "shared.mp4")
    active = _ready_visual(artist, track_id, tmp_path / "active.mp4")
    assert artist.call("PATCH", f"/api/tracks/{track_id}/visuals/{active}/active", {"active": True}).ok

    # Given a fan's share of the hook (a fan who never collected shares the track's own hook, 403
    # HOOK_WINDOW_LOCKED for any other) with the visual that is not the active one
    assert (
        fan.call(
            "POST", "/api/shares", {"trackId": track_id, "hookStartSec": 2, "visualAssetId": shared_visual}
        ).json()["code"]
        == "HOOK_WINDOW_LOCKED"
    )
    shared = fan.call(
        "POST", "/api/shares", {"trackId": track_id, "hookStartSec": 1, "visualAssetId": shared_visual}
    )
    assert shared.status_code == 201, shared.text
    share = shared.json()
    assert share["url"] == f"{stack.url}/s/{share['id']}"  # the local stack serves its own short links

    # When someone opens the short link
    opened = requests.get(share["url"], allow_redirects=False, timeout=10)

    # Then they land on the preview of that hook with that visual, carrying the sharer's referral cookie
    assert opened.status_code == 302
    location = urlsplit(opened.headers["Location"])
    assert location.path == f"/preview/{track_id}"
    assert parse_qs(location.query) == {"t": ["1"], "v": [shared_visual], "s": [share["id"]]}
    assert (
        opened.headers["Set-Cookie"].startswith("ref=") and "Max-Age=2592000" in opened.headers["Set-Cookie"]
    )

    # And an export asked with the share id renders the shared visual
    asked = fan.call("POST", "/api/hooks/tiktok-video", {"shareId": share["id"], "preset": "low"})
    assert asked.status_code == 202, asked.text
    job = _finished(fan, asked.json()["id"])
    assert job["status"] == "DONE", job
    assert (job["visualAssetId"], job["trackId"], job["hookStartSec"]) == (shared_visual, track_id, 1)
    assert job["warnings"] == []
    assert requests.get(job["downloadUrl"], timeout=30).content[4:8] == b"ftyp"

    # When the artist archives the shared visual, the share still resolves, on the active visual
    assert artist.call("POST", f"/api/tracks/{track_id}/visuals/{shared_visual}/archive").ok
    resolved = Client(stack.url).call("GET", f"/api/shares/{share['id']}").json()
    assert (resolved["requestedVisualId"], resolved["visualAssetId"]) == (shared_visual, active)
    assert resolved["fallback"]["code"] == "VISUAL_UNAVAILABLE"
    reopened = requests.get(share["url"], allow_redirects=False, timeout=10)
    assert parse_qs(urlsplit(reopened.headers["Location"]).query)["fallback"] == ["visual_unavailable"]

    # And exporting the share renders the active visual instead of failing, with a warning in the answer
    # (not on the job, which everyone asking for the same export shares)
    fallback = fan.call("POST", "/api/hooks/tiktok-video", {"shareId": share["id"], "preset": "low"})
    assert fallback.status_code == 202, fallback.text
    warnings = fallback.json()["warnings"]
    assert [warning.split(":")[0] for warning in warnings] == ["SHARED_VISUAL_UNAVAILABLE"]
    job = _finished(fan, fallback.json()["id"])
    assert job["status"] == "DONE" and job["visualAssetId"] == active and job["warnings"] == []
