"""Visual metrics through the API handler on moto: POST an event, moto's event source mapping runs the
real aggregator inline, and the counters the artist sees have settled by the time the call returns.

Viewers: anonymous fans are told apart by address and browser (API Gateway's sourceIp and userAgent,
set per call here); signed-in callers post to /api/me/... and count as their user."""

import json
import os
from datetime import timedelta
from typing import Any

import boto3
import pytest

from tests.conftest import Api, http_event
from tests.integration.support import (
    Artist,
    Media,
    add_visual,
    create_profile,
    fresh,
    start_visual,
    studio_visual,
)

FAN_IP = "203.0.113.7"
FAN_AGENT = "Mozilla/5.0 (iPhone) fan"
Reply = tuple[int, Any, dict[str, str]]


def fire(
    visual_id: str,
    kind: str = "share",
    *,
    user: str | None = None,
    ip: str = FAN_IP,
    agent: str = FAN_AGENT,
    body: Any = None,
    raw_body: str | None = None,
) -> Reply:
    """POST an event as API Gateway would hand it over: the signed-in route when `user` is given."""
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext

    path = f"/api/me/visuals/{visual_id}/event" if user else f"/api/visuals/{visual_id}/event"
    event = http_event(
        "POST", path, body={"type": kind} if body is None else body, user=user, raw_body=raw_body
    )
    event["requestContext"]["http"]["sourceIp"] = ip
    event["requestContext"]["http"]["userAgent"] = agent
    response = lambda_handler(event, LambdaContext("api", 512, 15))
    text = response.get("body")
    return response["statusCode"], json.loads(text) if text else None, response.get("headers", {})


def counters(api: Api, artist: Artist, visual_id: str) -> dict[str, int]:
    """What the artist sees."""
    return studio_visual(api, artist.user_id, visual_id)["metrics"]


@pytest.fixture
def visual(api: Api, artist: Artist, media: Media) -> str:
    made = add_visual(api, artist.user_id, artist.track_id, media.clip)
    assert made["status"] == "READY", made
    return str(made["id"])


@pytest.fixture
def pinned_rate_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rate limiter's clock pinned 20 s into a window, so no test straddles two windows."""
    from casset.data import rate_limits

    window_start = 1_800_000_000.0 - 1_800_000_000.0 % 60
    monkeypatch.setattr(
        rate_limits, "time", type("Clock", (), {"time": staticmethod(lambda: window_start + 20)})
    )


# Accepting and counting


def test_an_event_is_accepted_and_counted_once_the_aggregator_settles(
    api: Api, artist: Artist, visual: str
) -> None:
    status, body, _ = fire(visual, "share")

    assert status == 202
    assert set(body) == {"eventId", "counted"} and body["counted"] is True
    assert len(body["eventId"]) == 26
    assert counters(api, artist, visual) == {"impressions": 0, "pairings": 0, "exports": 0, "shares": 1}


def test_each_type_adds_to_its_own_counter(api: Api, artist: Artist, visual: str) -> None:
    for kind, times in (("impression", 1), ("pairing", 2), ("export", 3), ("share", 4)):
        for _ in range(times):
            user = fresh("fan-") if kind == "pairing" else None  # pairings come from signed-in callers only
            assert fire(visual, kind, ip=f"198.51.100.{times}", user=user)[0] == 202

    assert counters(api, artist, visual) == {"impressions": 1, "pairings": 2, "exports": 3, "shares": 4}


def test_fans_see_the_same_counters(api: Api, artist: Artist, visual: str) -> None:
    fire(visual, "share")
    fire(visual, "share", ip="198.51.100.9")

    status, public, _ = api("GET", f"/api/visuals/{visual}")
    assert status == 200 and public["metrics"]["shares"] == 2


# Impression dedupe


def test_the_same_viewers_second_impression_is_accepted_but_not_counted(
    api: Api, artist: Artist, visual: str
) -> None:
    first, again = fire(visual, "impression"), fire(visual, "impression")

    assert (first[0], first[1]["counted"]) == (202, True)
    assert (again[0], again[1]["counted"]) == (202, False)
    assert again[1]["eventId"] != first[1]["eventId"]
    assert counters(api, artist, visual)["impressions"] == 1


def test_a_refresh_loop_counts_one_impression(api: Api, artist: Artist, visual: str) -> None:
    answers = [fire(visual, "impression")[1]["counted"] for _ in range(10)]

    assert answers == [True] + [False] * 9
    assert counters(api, artist, visual)["impressions"] == 1


@pytest.mark.parametrize(
    "other",
    [{"ip": "198.51.100.20"}, {"agent": "Mozilla/5.0 (Android) another fan"}],
    ids=["another address", "another browser"],
)
def test_another_anonymous_viewer_counts(api: Api, artist: Artist, visual: str, other: dict) -> None:
    fire(visual, "impression")

    status, body, _ = fire(visual, "impression", **other)

    assert (status, body["counted"]) == (202, True)
    assert counters(api, artist, visual)["impressions"] == 2


def test_dedupe_is_per_visual(api: Api, artist: Artist, visual: str, media: Media) -> None:
    second = add_visual(api, artist.user_id, artist.track_id, media.clip)["id"]
    fire(visual, "impression")

    assert fire(second, "impression")[1]["counted"] is True
    assert counters(api, artist, second)["impressions"] == 1


def test_only_impressions_are_deduplicated(api: Api, artist: Artist, visual: str) -> None:
    answers = [fire(visual, kind)[1]["counted"] for kind in ("share", "share", "export", "export")]

    assert answers == [True] * 4
    assert counters(api, artist, visual)["shares"] == 2


def test_an_impression_counts_again_after_the_window(
    api: Api, artist: Artist, visual: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.clock import utcnow
    from casset.data import metrics as metrics_data
    from casset.settings import get_settings

    assert fire(visual, "impression")[1]["counted"] is True
    assert fire(visual, "impression")[1]["counted"] is False
    # Just past the window (the claim's TTL deletion may lag: the condition looks at its expiry)
    later = utcnow() + timedelta(seconds=get_settings().impression_window_sec + 1)
    monkeypatch.setattr(metrics_data, "utcnow", lambda: later)

    assert fire(visual, "impression")[1]["counted"] is True
    assert counters(api, artist, visual)["impressions"] == 2


def test_when_the_queue_refuses_the_answer_is_503_and_the_impression_is_not_spent(
    api: Api, artist: Artist, visual: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import ClientError

    from casset.data import metrics as metrics_data

    class RefusingQueue:
        def send_message(self, **_: Any) -> dict:
            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "busy"}}, "SendMessage")

    real_queue = metrics_data._sqs()
    monkeypatch.setattr(metrics_data, "_sqs", lambda: RefusingQueue())
    status, body, _ = fire(visual, "impression")
    assert (status, body["code"]) == (503, "UNAVAILABLE")

    monkeypatch.setattr(metrics_data, "_sqs", lambda: real_queue)
    status, body, _ = fire(visual, "impression")  # the client retries

    assert (status, body["counted"]) == (202, True)
    assert counters(api, artist, visual)["impressions"] == 1


# Signed-in viewers


def test_a_signed_in_viewer_is_one_viewer_from_any_address(api: Api, artist: Artist, visual: str) -> None:
    fan = fresh("fan-")

    first = fire(visual, "impression", user=fan, ip="198.51.100.1", agent="phone")
    again = fire(visual, "impression", user=fan, ip="192.0.2.77", agent="laptop")

    assert (first[0], first[1]["counted"]) == (202, True)
    assert (again[0], again[1]["counted"]) == (202, False)
    assert counters(api, artist, visual)["impressions"] == 1


def test_signed_in_and_anonymous_viewers_on_one_device_are_two_viewers(
    api: Api, artist: Artist, visual: str
) -> None:
    assert fire(visual, "impression")[1]["counted"] is True
    assert fire(visual, "impression", user=fresh("fan-"))[1]["counted"] is True
    assert counters(api, artist, visual)["impressions"] == 2


def test_the_anonymous_route_ignores_claims(api: Api, artist: Artist, visual: str) -> None:
    """API Gateway never authorizes the anonymous route, so claims there cannot be trusted to exist:
    the viewer is the address and browser even when the event carries some."""
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext

    fire(visual, "impression")  # anonymous, FAN_IP + FAN_AGENT
    event = http_event("POST", f"/api/visuals/{visual}/event", body={"type": "impression"}, user=fresh("u-"))
    event["requestContext"]["http"].update(sourceIp=FAN_IP, userAgent=FAN_AGENT)

    response = lambda_handler(event, LambdaContext("api", 512, 15))

    assert response["statusCode"] == 202 and json.loads(response["body"])["counted"] is False


def test_the_signed_in_route_needs_a_caller(api: Api, visual: str) -> None:
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext

    event = http_event("POST", f"/api/me/visuals/{visual}/event", body={"type": "share"})
    response = lambda_handler(event, LambdaContext("api", 512, 15))

    assert response["statusCode"] == 401 and json.loads(response["body"])["code"] == "UNAUTHORIZED"


def test_no_address_is_stored(api: Api, visual: str) -> None:
    fire(visual, "impression", ip="192.0.2.201", agent="DistinctAgent/9.9")
    fire(visual, "share", ip="192.0.2.201", agent="DistinctAgent/9.9")

    for table in ("METRIC_EVENTS_TABLE", "RATE_LIMITS_TABLE"):
        items = boto3.client("dynamodb").scan(TableName=os.environ[table])["Items"]
        text = json.dumps(items)
        assert "192.0.2.201" not in text and "DistinctAgent" not in text


# Rate limits


def test_too_many_events_for_one_visual_are_refused_and_not_counted(
    api: Api, artist: Artist, visual: str, settings_env: Any, pinned_rate_clock: None
) -> None:
    settings_env(METRICS_EVENTS_PER_MINUTE="3")

    statuses = [fire(visual, "share")[0] for _ in range(3)]
    status, body, headers = fire(visual, "share")

    assert statuses == [202, 202, 202]
    assert (status, body["code"]) == (429, "RATE_LIMITED")
    assert set(body) == {"code", "message", "details"}
    assert headers["Retry-After"] == "60"  # 40 s to the window's end, 20 s of the next
    assert counters(api, artist, visual)["shares"] == 3


def test_a_limited_viewer_may_still_fire_at_another_visual_and_others_at_this_one(
    api: Api, artist: Artist, visual: str, media: Media, settings_env: Any, pinned_rate_clock: None
) -> None:
    second = add_visual(api, artist.user_id, artist.track_id, media.clip)["id"]
    settings_env(METRICS_EVENTS_PER_MINUTE="2")
    fire(visual, "share")
    fire(visual, "share")
    assert fire(visual, "share")[0] == 429

    assert fire(second, "share")[0] == 202
    assert fire(visual, "share", ip="198.51.100.33")[0] == 202
    assert fire(visual, "share", user=fresh("fan-"))[0] == 202
    assert counters(api, artist, visual)["shares"] == 4


def test_impressions_that_do_not_count_still_spend_the_limit(
    api: Api, visual: str, settings_env: Any, pinned_rate_clock: None
) -> None:
    settings_env(METRICS_EVENTS_PER_MINUTE="3")

    assert [fire(visual, "impression")[0] for _ in range(4)] == [202, 202, 202, 429]


def test_events_do_not_spend_the_signed_in_write_budget(
    api: Api, visual: str, settings_env: Any, pinned_rate_clock: None
) -> None:
    """A fan flipping through visuals must keep the budget for real changes (a checkout, a profile)."""
    settings_env(RATE_LIMIT_MUTATIONS_PER_MINUTE="3")
    fan = create_profile(api, artist=False)  # one write

    assert [fire(visual, "impression", user=fan)[0] for _ in range(5)] == [202] * 5
    assert api("PATCH", "/api/users/me", user=fan, body={"bio": "still allowed"})[0] == 200


# Refusals


@pytest.mark.parametrize(
    "body",
    [{"type": "click"}, {"type": "IMPRESSION"}, {}, {"type": "share", "extra": 1}, {"type": 3}],
    ids=["unknown type", "wrong case", "no type", "unknown field", "not a string"],
)
def test_an_invalid_event_is_refused_with_the_validation_shape(
    api: Api, artist: Artist, visual: str, body: dict
) -> None:
    status, answer, _ = fire(visual, body=body)

    assert (status, answer["code"]) == (422, "VALIDATION_FAILED")
    assert answer["details"] and all(
        set(detail) == {"field", "type", "message"} for detail in answer["details"]
    )
    assert counters(api, artist, visual) == {"impressions": 0, "pairings": 0, "exports": 0, "shares": 0}


def test_the_invalid_type_is_named_in_the_details(visual: str) -> None:
    _, answer, _ = fire(visual, body={"type": "click"})

    assert [detail["field"] for detail in answer["details"]] == ["body.type"]


def test_a_body_that_is_not_json_is_a_400(visual: str) -> None:
    status, answer, _ = fire(visual, raw_body="{type: impression")

    assert (status, answer["code"]) == (400, "MALFORMED_JSON")


def test_an_unknown_visual_is_not_found(api: Api) -> None:
    for user in (None, fresh("fan-")):
        status, answer, _ = fire("0" * 26, "impression", user=user)
        assert (status, answer["code"]) == (404, "VISUAL_NOT_FOUND")


def test_a_visual_that_is_not_ready_takes_no_events_even_from_its_artist(api: Api, artist: Artist) -> None:
    processing = start_visual(api, artist.user_id, artist.track_id)["visual"]["id"]

    for user in (None, artist.user_id):
        status, answer, _ = fire(processing, "share", user=user)
        assert (status, answer["code"]) == (404, "VISUAL_NOT_FOUND")
    assert counters(api, artist, processing)["shares"] == 0


def test_an_archived_visual_takes_no_events(api: Api, artist: Artist, visual: str) -> None:
    fire(visual, "share")
    status, _, _ = api("POST", f"/api/tracks/{artist.track_id}/visuals/{visual}/archive", user=artist.user_id)
    assert status == 200

    status, answer, _ = fire(visual, "share", ip="198.51.100.44")

    assert (status, answer["code"]) == (404, "VISUAL_NOT_FOUND")
    assert counters(api, artist, visual)["shares"] == 1  # what it had keeps


def test_a_pairing_counts_only_from_a_signed_in_caller(api: Api, artist: Artist, visual: str) -> None:
    anonymous = fire(visual, "pairing")
    signed_in = fire(visual, "pairing", user=fresh("fan-"))

    assert (anonymous[0], anonymous[1]["code"]) == (401, "UNAUTHORIZED")
    assert signed_in[0] == 202
    assert counters(api, artist, visual)["pairings"] == 1
