"""The V2 library over plain HTTP against the local stack: an artist tags a track, uploads visuals, reuses
one from another track, orders and tags them; a fan pages the switcher, filters it and fires metric
events; the artist asks for suggestions."""

import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_visual_lifecycle import Client, upload, wait_for
from tests.media_factory import make_video

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def _ready_visual(artist: Client, track_id: str, path: Path, **fields: Any) -> str:
    created = artist.call("POST", f"/api/tracks/{track_id}/visuals", {"contentType": "video/mp4", **fields})
    assert created.status_code == 201, created.text
    assert upload(created.json()["upload"], make_video(path, seconds=1, width=90, height=160)).ok
    visual_id = created.json()["visual"]["id"]
    assert wait_for(artist, f"/api/studio/visuals/{visual_id}", "status", "PROCESSING")["status"] == "READY"
    return str(visual_id)


def _track(artist: Client, **fields: Any) -> str:
    created = artist.call("POST", "/api/tracks", {"title": "Library", **fields})
    assert created.status_code == 201, created.text
    return str(created.json()["track"]["id"])


def test_an_artist_builds_a_library_and_a_fan_browses_it(stack: Any, tmp_path: Path) -> None:
    artist = Client(stack.url, stack.token(f"e2e-library-{uuid.uuid4().hex[:8]}"))
    handle = f"e2e_{uuid.uuid4().hex[:12]}"
    assert artist.call("POST", "/api/users", {"handle": handle, "displayName": "Lib", "isArtist": True}).ok
    track = _track(artist, tags=["Lo-Fi", "moody"])
    older_track = _track(artist)

    dusk = _ready_visual(artist, track, tmp_path / "dusk.mp4", tags=["dark", "film"], bpmMin=70, bpmMax=95)
    neon = _ready_visual(artist, track, tmp_path / "neon.mp4", tags=["euphoric"])
    archive_clip = _ready_visual(artist, older_track, tmp_path / "old.mp4", tags=["lofi", "dark"])
    reused = artist.call("POST", f"/api/tracks/{track}/visuals", {"reuseVisualId": archive_clip})
    assert reused.status_code == 201 and reused.json()["visual"]["status"] == "READY", reused.text
    reused_id = reused.json()["visual"]["id"]

    # The artist puts the reused clip first and retags the neon one.
    assert artist.call("PUT", f"/api/tracks/{track}/visuals/{reused_id}/position", {"afterVisualId": None}).ok
    assert artist.call("PATCH", f"/api/tracks/{track}/visuals/{neon}", {"tags": ["Nostalgia", "VHS"]}).json()[
        "tags"
    ] == ["nostalgic", "vhs"]

    fan = Client(stack.url)
    first = fan.call("GET", f"/api/tracks/{track}/visuals?limit=2").json()
    second = fan.call("GET", f"/api/tracks/{track}/visuals?limit=2&cursor={first['nextCursor']}").json()
    assert [item["id"] for item in first["items"] + second["items"]] == [reused_id, dusk, neon]
    assert second["nextCursor"] is None
    assert [
        item["id"] for item in fan.call("GET", f"/api/tracks/{track}/visuals?tag=dark&bpm=80").json()["items"]
    ] == [dusk]
    refused = fan.call("GET", f"/api/tracks/{track}/visuals?tag=polka")
    assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_TAG")

    # The fan's impressions count once however often the page refreshes; the counter settles shortly.
    fired = [fan.call("POST", f"/api/visuals/{dusk}/event", {"type": "impression"}) for _ in range(3)]
    assert [(reply.status_code, reply.json()["counted"]) for reply in fired] == [
        (202, True),
        (202, False),
        (202, False),
    ]
    assert artist.call("POST", f"/api/me/visuals/{dusk}/event", {"type": "pairing"}).status_code == 202
    deadline = time.monotonic() + 30
    while (metrics := fan.call("GET", f"/api/visuals/{dusk}").json()["metrics"])["pairings"] < 1:
        assert time.monotonic() < deadline, metrics
        time.sleep(0.2)
    assert (metrics["impressions"], metrics["pairings"]) == (1, 1)

    suggestions = artist.call("GET", f"/api/tracks/{track}/visuals/suggestions").json()["items"]
    assert [item["visual"]["id"] for item in suggestions][:2] == [reused_id, dusk]
    assert suggestions[0]["reason"].startswith("matched on: dark, lo-fi")
    assert suggestions[1]["reason"] == "matched on: dark · 1 pairing · new this week"
