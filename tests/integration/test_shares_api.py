"""Hook shares through the real API handler on moto: create (validation, short ids, the sharer's
referral link), open /s/{id} (redirect, `ref` cookie, the click recorded), read the resolution, fall back
when the shared visual is archived, and export from a share (the render runs inline on moto's SQS)."""

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from tests.conftest import Api as ApiClient
from tests.conftest import FeatureFlagsFile, http_event
from tests.integration import support
from tests.integration.support import Api, Media

HOOK_START, HOOK_SECONDS = 2.0, 5.0


@dataclass(frozen=True)
class Stage:
    """An artist (with a handle) whose track has 12 s of probed audio and a 5 s hook from 2 s."""

    artist: str
    handle: str
    track_id: str


@pytest.fixture(scope="module")
def api_module(aws: Any) -> Api:
    return ApiClient()


@pytest.fixture(scope="module")
def media_module(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("share-media"))


@pytest.fixture(scope="module")
def stage(api_module: Api, media_module: Media) -> Stage:
    return _stage(api_module, media_module)


def _stage(api: Api, media: Media) -> Stage:
    artist = support.create_profile(api, artist=True)
    handle = api("GET", "/api/users/me", user=artist)[1]["handle"]
    created = support.create_track(
        api,
        artist,
        previewStartSec=HOOK_START,
        hookDurationSec=HOOK_SECONDS,
        audioContentType="audio/wav",
    )
    support.put_object(created["audioUpload"]["key"], media.audio(".wav", seconds=12.0), "audio/wav")
    track = support.get_track(api, created["track"]["id"])
    assert track["audio"]["status"] == "READY", track
    return Stage(artist, handle, track["id"])


def _visual(api: Api, stage: Stage, media: Media, *, active: bool = False) -> str:
    visual = support.add_visual(api, stage.artist, stage.track_id, media.clip)
    assert visual["status"] == "READY", visual
    if active:
        assert support.set_active(api, stage.artist, stage.track_id, visual["id"], True)[0] == 200
    return str(visual["id"])


def _archive(api: Api, stage: Stage, visual_id: str) -> None:
    status, body, _ = api(
        "POST", f"/api/tracks/{stage.track_id}/visuals/{visual_id}/archive", user=stage.artist
    )
    assert status == 200 and body["status"] == "ARCHIVED", body


def _share(api: Api, user: str | None, track_id: str, **fields: Any) -> support.Reply:
    return api("POST", "/api/shares", user=user, body={"trackId": track_id, **fields})


def _shared(api: Api, user: str, track_id: str, **fields: Any) -> dict[str, Any]:
    status, body, _ = _share(api, user, track_id, **fields)
    assert status == 201, body
    return dict(body)


def _open(share_id: str) -> dict[str, Any]:
    """GET /s/{id} as API Gateway hands it over; the raw result keeps `cookies` (the Api helper drops it)."""
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext

    return dict(lambda_handler(http_event("GET", f"/s/{share_id}"), LambdaContext("api", 512, 15)))


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def _share_item(share_id: str) -> dict[str, Any] | None:
    return support.raw_item("HOOK_SHARES_TABLE", {"id": share_id})


def _export(api: Api, user: str, *, query: dict[str, str] | None = None, **fields: Any) -> support.Reply:
    return api("POST", "/api/hooks/tiktok-video", user=user, body={"preset": "low", **fields}, query=query)


def _export_item(export_id: str) -> dict[str, Any]:
    item = support.raw_item("EXPORTS_TABLE", {"id": export_id})
    assert item is not None
    return item


# Creating a share


def test_a_fan_shares_a_hook_with_a_visual_and_gets_a_short_link(
    api: Api, stage: Stage, media_module: Media
) -> None:
    visual_id = _visual(api, stage, media_module)
    fan = support.create_profile(api, artist=False)

    body = _shared(api, fan, stage.track_id, visualAssetId=visual_id)

    assert body["url"] == f"{os.environ['SHORT_LINK_BASE_URL'].rstrip('/')}/s/{body['id']}"
    assert (body["trackId"], body["hookStartSec"], body["visualAssetId"]) == (
        stage.track_id,
        HOOK_START,
        visual_id,
    )
    item = _share_item(body["id"])
    assert item is not None
    assert item["trackId"]["S"] == stage.track_id and item["visualId"]["S"] == visual_id
    assert item["sharerUserId"]["S"] == fan and float(item["hookStartSec"]["N"]) == HOOK_START
    link = support.raw_item("REFERRAL_LINKS_TABLE", {"code": item["referralCode"]["S"]})
    assert link is not None
    assert (link["referrerId"]["S"], link["artistHandle"]["S"]) == (fan, stage.handle)


def test_a_share_without_a_visual_follows_the_active_one_from_its_own_start(api: Api, stage: Stage) -> None:
    body = _shared(api, stage.artist, stage.track_id, hookStartSec=4.25)
    assert body["hookStartSec"] == 4.25 and body["visualAssetId"] is None
    item = _share_item(body["id"])
    assert item is not None and "visualId" not in item and float(item["hookStartSec"]["N"]) == 4.25
    resolved = api("GET", f"/api/shares/{body['id']}")[1]
    assert resolved["requestedVisualId"] is None and resolved["fallback"] is None


def test_the_artist_sharing_their_own_track_gets_no_referral(api: Api, stage: Stage) -> None:
    body = _shared(api, stage.artist, stage.track_id)
    assert "referralCode" not in (_share_item(body["id"]) or {})
    assert _open(body["id"]).get("cookies", []) == []


def test_a_signed_in_caller_without_a_profile_shares_without_a_referral(api: Api, stage: Stage) -> None:
    body = _shared(api, support.fresh("no-profile-"), stage.track_id)
    assert "referralCode" not in (_share_item(body["id"]) or {})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"hookStartSec": 8.0}, (400, "INVALID_HOOK")),  # 8 + 5 > 12 s of audio
        ({"hookStartSec": -1}, (422, "VALIDATION_FAILED")),
        ({"visualAssetId": "0" * 26}, (404, "VISUAL_NOT_FOUND")),
        ({"trackId": "0" * 26}, (404, "TRACK_NOT_FOUND")),
        ({"surprise": True}, (422, "VALIDATION_FAILED")),
    ],
)
def test_invalid_shares_are_refused_with_a_code(
    api: Api, stage: Stage, fields: dict[str, Any], expected: tuple[int, str]
) -> None:
    body = {"trackId": stage.track_id, **fields}
    assert support.error_code(api("POST", "/api/shares", user=stage.artist, body=body)) == expected


def test_a_visual_that_is_not_ready_cannot_be_shared(api: Api, stage: Stage, media_module: Media) -> None:
    archived = _visual(api, stage, media_module)
    _archive(api, stage, archived)
    processing = support.start_visual(api, stage.artist, stage.track_id)["visual"]["id"]
    other = _stage(api, media_module)
    foreign = _visual(api, other, media_module)
    for visual_id, expected in [
        (archived, (409, "VISUAL_NOT_READY")),
        (processing, (409, "VISUAL_NOT_READY")),
        (foreign, (404, "VISUAL_NOT_FOUND")),
    ]:
        assert (
            support.error_code(_share(api, stage.artist, stage.track_id, visualAssetId=visual_id)) == expected
        )
    # Anyone else is told what reading the visual would tell them: nothing of its state.
    for visual_id in (archived, processing, foreign):
        assert support.error_code(_share(api, "someone", stage.track_id, visualAssetId=visual_id)) == (
            404,
            "VISUAL_NOT_FOUND",
        )


def test_a_track_without_processed_audio_cannot_be_shared(api: Api) -> None:
    artist = support.create_profile(api, artist=True)
    track_id = support.create_track(api, artist)["track"]["id"]
    assert support.error_code(_share(api, "someone", track_id)) == (409, "AUDIO_NOT_READY")


def test_sharing_needs_a_signed_in_caller(api: Api, stage: Stage) -> None:
    assert support.error_code(_share(api, None, stage.track_id)) == (401, "UNAUTHORIZED")


def test_a_taken_short_id_is_retried_and_never_overwritten(
    api: Api, stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.services import shares

    first = _shared(api, stage.artist, stage.track_id)
    fresh_ids = iter([first["id"], first["id"], "zzzzzzzz9"])
    monkeypatch.setattr(shares, "new_share_id", lambda: next(fresh_ids))

    second = _shared(api, stage.artist, stage.track_id, hookStartSec=3)

    assert second["id"] == "zzzzzzzz9"
    assert float((_share_item(first["id"]) or {})["hookStartSec"]["N"]) == HOOK_START
    monkeypatch.setattr(shares, "new_share_id", lambda: first["id"])
    assert support.error_code(_share(api, stage.artist, stage.track_id)) == (409, "SHARE_ID_TAKEN")


# Opening a share


def test_opening_a_share_redirects_to_the_preview_and_sets_the_sharers_referral_cookie(
    api: Api, stage: Stage, media_module: Media
) -> None:
    from casset.clock import utcnow
    from casset.data import users as users_data
    from casset.services import referrals

    visual_id = _visual(api, stage, media_module)
    fan = support.create_profile(api, artist=False)
    share = _shared(api, fan, stage.track_id, visualAssetId=visual_id)

    response = _open(share["id"])

    assert response["statusCode"] == 302
    location = response["headers"]["Location"]
    assert location.startswith(f"{os.environ['SITE_URL'].rstrip('/')}/preview/{stage.track_id}?")
    assert _query(location) == {"t": ["2"], "v": [visual_id], "s": [share["id"]]}
    assert response["headers"]["Cache-Control"] == "no-store"
    (cookie,) = response["cookies"]
    parts = [part.strip() for part in cookie.split(";")]
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"} <= set(parts)
    click_id = parts[0].removeprefix("ref=")
    click = support.raw_item("REFERRAL_CLICKS_TABLE", {"id": click_id})
    assert click is not None
    assert click["code"]["S"] == (_share_item(share["id"]) or {})["referralCode"]["S"]
    # The cookie attributes a collect of this artist to the sharer, as a /r/{code} cookie does.
    artist, buyer = users_data.get_user(stage.artist), users_data.get_user(support.create_profile(api))
    assert artist is not None and buyer is not None
    found = referrals.resolve(artist, buyer, None, click_id, utcnow() + timedelta(days=1))
    assert found is not None and found.referrer_id == fan


def test_each_opening_records_its_own_click(api: Api, stage: Stage) -> None:
    share = _shared(api, support.create_profile(api, artist=False), stage.track_id)
    first, second = _open(share["id"])["cookies"][0], _open(share["id"])["cookies"][0]
    assert first.split(";")[0] != second.split(";")[0]


@pytest.mark.parametrize("share_id", ["zzzzzzzz8", "not-a-share-id", "x"])
def test_an_unknown_share_is_a_clear_404(api: Api, share_id: str) -> None:
    response = _open(share_id)
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["code"] == "SHARE_NOT_FOUND"
    assert support.error_code(api("GET", f"/api/shares/{share_id}")) == (404, "SHARE_NOT_FOUND")


def test_anyone_reads_a_share_resolved(api: Api, stage: Stage, media_module: Media) -> None:
    visual_id = _visual(api, stage, media_module)
    share = _shared(api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=visual_id)

    status, body, _ = api("GET", f"/api/shares/{share['id']}")

    assert status == 200, body
    assert body["url"] == share["url"] and body["trackId"] == stage.track_id
    assert (body["hookStartSec"], body["hookDurationSec"]) == (HOOK_START, HOOK_SECONDS)
    assert body["requestedVisualId"] == body["visualAssetId"] == visual_id
    assert body["fallback"] is None
    assert body["previewUrl"] == _open(share["id"])["headers"]["Location"]


def test_sharing_and_opening_count_nothing_on_the_visual(api: Api, stage: Stage, media_module: Media) -> None:
    visual_id = _visual(api, stage, media_module)
    share = _shared(api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=visual_id)
    _open(share["id"])
    assert support.studio_visual(api, stage.artist, visual_id)["metrics"]["shares"] == 0


# The shared visual archived since


def test_an_archived_shared_visual_falls_back_to_the_active_one_and_says_so(
    api: Api, media_module: Media
) -> None:
    stage = _stage(api, media_module)
    shared_visual, active = _visual(api, stage, media_module), _visual(api, stage, media_module)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    assert support.set_active(api, stage.artist, stage.track_id, active, True)[0] == 200
    _archive(api, stage, shared_visual)

    response = _open(share["id"])
    status, body, _ = api("GET", f"/api/shares/{share['id']}")

    assert response["statusCode"] == 302 and response["cookies"]
    query = _query(response["headers"]["Location"])
    assert query["v"] == [active] and query["fallback"] == ["visual_unavailable"]
    assert status == 200
    assert (body["requestedVisualId"], body["visualAssetId"]) == (shared_visual, active)
    assert body["fallback"]["code"] == "VISUAL_UNAVAILABLE"
    assert "archived" in body["fallback"]["message"] and active in body["fallback"]["message"]


def test_with_no_active_visual_the_fallback_is_the_cover(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    shared_visual = _visual(api, stage, media_module, active=True)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    _archive(api, stage, shared_visual)  # archiving the active visual leaves the track without one

    query = _query(_open(share["id"])["headers"]["Location"])
    body = api("GET", f"/api/shares/{share['id']}")[1]

    assert "v" not in query and query["fallback"] == ["visual_unavailable"]
    assert body["visualAssetId"] is None and "cover" in body["fallback"]["message"]


# Exporting a share


def test_a_share_exports_with_the_shared_visual_and_hook_not_the_active_one(
    api: Api, media_module: Media
) -> None:
    stage = _stage(api, media_module)
    shared_visual = _visual(api, stage, media_module)
    _visual(api, stage, media_module, active=True)
    share = _shared(api, stage.artist, stage.track_id, visualAssetId=shared_visual, hookStartSec=3)

    status, job, _ = _export(api, stage.artist, shareId=share["id"])

    assert status == 202, job
    plan = _export_item(job["id"])["plan"]["M"]
    assert plan["visualId"]["S"] == shared_visual and plan["trackId"]["S"] == stage.track_id
    assert float(plan["hookStartSec"]["N"]) == 3 and float(plan["hookDurationSec"]["N"]) == HOOK_SECONDS
    done = api("GET", f"/api/exports/{job['id']}", user=stage.artist)[1]
    assert done["status"] == "DONE" and done["visualAssetId"] == shared_visual and done["warnings"] == []
    # The same share exported again by a collector (who may hear that window) is the same export.
    collector = support.create_profile(api, artist=False)
    support.grant_collect(collector, stage.artist)
    again = _export(api, collector, shareId=share["id"])
    assert again[0] == 200 and again[1]["id"] == job["id"]


def test_a_share_exports_its_hook_as_resolved_when_the_audio_no_longer_holds_the_tracks_hook(
    api: Api, media_module: Media
) -> None:
    artist = support.create_profile(api, artist=True)
    created = support.create_track(api, artist, hookDurationSec=10, audioContentType="audio/wav")
    support.put_object(created["audioUpload"]["key"], media_module.audio(".wav", seconds=12.0), "audio/wav")
    track_id = created["track"]["id"]
    share = _shared(api, artist, track_id, hookStartSec=2)
    # Given audio now shorter than the track's 10 s hook (the probe refits the track's hook on a
    # replacement, so the record is set directly)
    boto3.client("dynamodb").update_item(
        TableName=os.environ["TRACKS_TABLE"],
        Key={"id": {"S": track_id}},
        UpdateExpression="SET audio.durationSec = :seconds",
        ExpressionAttributeValues={":seconds": {"N": "8"}},
    )
    resolved = api("GET", f"/api/shares/{share['id']}")[1]
    assert (resolved["hookStartSec"], resolved["hookDurationSec"]) == (0, 8)

    status, job, _ = _export(api, artist, shareId=share["id"])

    assert status == 202, job
    plan = _export_item(job["id"])["plan"]["M"]
    assert (float(plan["hookStartSec"]["N"]), float(plan["hookDurationSec"]["N"])) == (0, 8)
    # A start asked for keeps the share's fitted length; one that does not fit is refused.
    assert _export(api, artist, shareId=share["id"], hookStartSec=0)[1]["id"] == job["id"]
    assert support.error_code(_export(api, artist, shareId=share["id"], hookStartSec=1)) == (
        400,
        "INVALID_HOOK",
    )


def test_the_v_query_parameter_picks_the_visual_like_the_body_does(
    api: Api, stage: Stage, media_module: Media
) -> None:
    chosen, other = _visual(api, stage, media_module), _visual(api, stage, media_module)

    by_query = _export(api, "a-fan", query={"v": chosen}, trackId=stage.track_id)
    by_body = _export(api, "a-fan", trackId=stage.track_id, visualAssetId=chosen)
    conflict = _export(api, "a-fan", query={"v": other}, trackId=stage.track_id, visualAssetId=chosen)

    assert by_query[0] in {200, 202} and by_query[1]["visualAssetId"] == chosen
    assert by_body[1]["id"] == by_query[1]["id"]
    assert support.error_code(conflict) == (400, "CONFLICTING_VISUAL_IDS")
    _archive(api, stage, other)
    archived = _export(api, stage.artist, query={"v": other}, trackId=stage.track_id)
    assert support.error_code(archived) == (409, "VISUAL_NOT_READY")
    # A fan is told what GET /api/visuals/{id} tells them: no such visual.
    hidden = _export(api, "a-fan", query={"v": other}, trackId=stage.track_id)
    assert support.error_code(hidden) == (404, "VISUAL_NOT_FOUND")


def test_an_explicit_visual_overrides_the_shared_one(api: Api, stage: Stage, media_module: Media) -> None:
    shared_visual, chosen = _visual(api, stage, media_module), _visual(api, stage, media_module)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    status, job, _ = _export(api, "a-fan", query={"v": chosen}, shareId=share["id"])
    assert status in {200, 202} and job["visualAssetId"] == chosen


def test_an_archived_shared_visual_exports_the_active_one_with_a_warning_in_the_answer_only(
    api: Api, media_module: Media
) -> None:
    stage = _stage(api, media_module)
    shared_visual, active = _visual(api, stage, media_module), _visual(api, stage, media_module, active=True)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    _archive(api, stage, shared_visual)

    status, job, _ = _export(api, "a-fan", shareId=share["id"])

    assert status == 202, job
    assert job["visualAssetId"] == active
    (warning,) = job["warnings"]
    assert warning.startswith("SHARED_VISUAL_UNAVAILABLE:") and shared_visual in warning
    # The job is everyone's who asks for this plan: it does not keep the warning of one way of asking.
    done = api("GET", f"/api/exports/{job['id']}", user="a-fan")[1]
    assert done["status"] == "DONE" and done["warnings"] == []
    assert _export_item(job["id"])["warnings"]["L"] == []
    direct = _export(api, "another-fan", trackId=stage.track_id)
    assert direct[0] == 200 and direct[1]["id"] == job["id"] and direct[1]["warnings"] == []
    # Asked through the share again: the same export, the warning once, in this answer.
    again = _export(api, "a-fan", shareId=share["id"])
    assert again[0] == 200 and again[1]["id"] == job["id"] and again[1]["warnings"] == [warning]


def test_a_cached_export_asked_through_a_stale_share_gets_the_warning_and_direct_askers_do_not(
    api: Api, media_module: Media
) -> None:
    stage = _stage(api, media_module)
    shared_visual, active = _visual(api, stage, media_module), _visual(api, stage, media_module, active=True)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    _archive(api, stage, shared_visual)
    direct = _export(api, "a-fan", trackId=stage.track_id, hookStartSec=HOOK_START)[1]
    assert direct["warnings"] == []

    status, via_share, _ = _export(api, "a-fan", shareId=share["id"])
    direct_again = _export(api, "a-fan", trackId=stage.track_id, hookStartSec=HOOK_START)[1]

    assert status == 200 and via_share["id"] == direct["id"] and via_share["visualAssetId"] == active
    assert [w.split(":")[0] for w in via_share["warnings"]] == ["SHARED_VISUAL_UNAVAILABLE"]
    assert direct_again["id"] == direct["id"] and direct_again["warnings"] == []
    assert api("GET", f"/api/exports/{direct['id']}", user="a-fan")[1]["warnings"] == []


def test_exporting_a_share_checks_the_share_and_its_track(api: Api, stage: Stage) -> None:
    share = _shared(api, stage.artist, stage.track_id)
    assert support.error_code(_export(api, "a-fan", shareId="zzzzzzzz7")) == (404, "SHARE_NOT_FOUND")
    assert support.error_code(_export(api, "a-fan", shareId=share["id"], trackId="0" * 26)) == (
        400,
        "SHARE_TRACK_MISMATCH",
    )
    assert support.error_code(_export(api, "a-fan")) == (400, "TRACK_REQUIRED")


# Feature flags


def test_with_the_library_off_for_the_artist_a_share_shows_and_exports_without_its_visual(
    api: Api, media_module: Media, feature_flags: FeatureFlagsFile
) -> None:
    stage = _stage(api, media_module)
    shared_visual, active = _visual(api, stage, media_module), _visual(api, stage, media_module, active=True)
    share = _shared(
        api, support.create_profile(api, artist=False), stage.track_id, visualAssetId=shared_visual
    )
    feature_flags.disable("visual_pairing_v2")

    response = _open(share["id"])
    status, body, _ = api("GET", f"/api/shares/{share['id']}")
    exported = _export(api, "a-fan", shareId=share["id"])

    assert response["statusCode"] == 302 and response["cookies"]
    assert _query(response["headers"]["Location"]) == {"t": ["2"], "v": [active], "s": [share["id"]]}
    assert status == 200, body
    assert (body["requestedVisualId"], body["visualAssetId"], body["fallback"]) == (None, active, None)
    assert shared_visual not in json.dumps(body)
    assert exported[0] == 202, exported[1]
    assert (exported[1]["visualAssetId"], exported[1]["warnings"]) == (active, [])
    feature_flags.enable("visual_pairing_v2")
    assert _query(_open(share["id"])["headers"]["Location"])["v"] == [shared_visual]


def test_with_visual_pairing_off_for_the_artist_a_share_opens_on_the_cover(
    api: Api, media_module: Media, feature_flags: FeatureFlagsFile
) -> None:
    stage = _stage(api, media_module)
    _visual(api, stage, media_module, active=True)
    share = _shared(api, support.create_profile(api, artist=False), stage.track_id)
    feature_flags.disable("visual_pairing_v1")

    query = _query(_open(share["id"])["headers"]["Location"])
    body = api("GET", f"/api/shares/{share['id']}")[1]

    assert query == {"t": ["2"], "s": [share["id"]]}
    assert (body["visualAssetId"], body["fallback"]) == (None, None)
