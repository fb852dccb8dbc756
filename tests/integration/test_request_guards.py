"""What the API does with requests it cannot serve: undecodable or oversized bodies, schema mismatches,
unknown routes, and callers over their per-minute write budget. Every error has the same shape."""

import base64
import json
import os
from typing import Any

import pytest

from tests.integration.support import Api, create_profile, error_code, fresh

BODY_LIMIT = 64 * 1024


def create_profile_raw(api: Api, raw_body: str, **kwargs: Any) -> tuple[int, Any, dict]:
    return api("POST", "/api/users", user=kwargs.pop("user", fresh("user-")), raw_body=raw_body, **kwargs)


# Bodies


@pytest.mark.parametrize(
    "raw_body", ["{", "{'handle': 'abc'}", '{"handle": "abc",}', "nul", "[1,", '"unterminated']
)
def test_a_body_that_is_not_json_is_refused(api: Api, raw_body: str) -> None:
    status, body, _ = create_profile_raw(api, raw_body)

    assert (status, body["code"]) == (400, "MALFORMED_JSON")


def test_an_unknown_field_is_named_in_the_details(api: Api) -> None:
    user = fresh("user-")

    status, body, _ = api(
        "POST",
        "/api/users",
        user=user,
        body={"handle": fresh("h"), "displayName": "A", "favouriteColour": "red"},
    )

    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
    assert [(d["field"], d["type"]) for d in body["details"]] == [("body.favouriteColour", "extra_forbidden")]
    assert error_code(api("GET", "/api/users/me", user=user)) == (404, "PROFILE_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field", "error_type"),
    [
        ({"handle": 123, "displayName": "A"}, "body.handle", "string_type"),
        ({"handle": "abcd", "displayName": "A", "isArtist": [True]}, "body.isArtist", "bool_type"),
        ({"handle": "abcd"}, "body.displayName", "missing"),
        ({"handle": "abcd", "displayName": "   "}, "body.displayName", "string_too_short"),
        ({"handle": "abcd", "displayName": "A", "bio": "b" * 501}, "body.bio", "string_too_long"),
    ],
    ids=["number-for-string", "list-for-bool", "missing", "blank", "too-long"],
)
def test_a_field_of_the_wrong_type_or_shape_is_refused(
    api: Api, body: dict, field: str, error_type: str
) -> None:
    status, reply, _ = api("POST", "/api/users", user=fresh("user-"), body=body)

    assert (status, reply["code"]) == (422, "VALIDATION_FAILED")
    assert [(d["field"], d["type"]) for d in reply["details"]] == [(field, error_type)]
    assert all(isinstance(d["message"], str) and d["message"] for d in reply["details"])


@pytest.mark.parametrize("raw_body", ["[]", "42", '"a string"', "null"])
def test_a_json_body_that_is_not_an_object_is_refused(api: Api, raw_body: str) -> None:
    status, body, _ = create_profile_raw(api, raw_body)

    assert (status, body["code"]) == (422, "VALIDATION_FAILED")


def test_a_missing_body_is_refused(api: Api) -> None:
    status, body, _ = api("POST", "/api/users", user=fresh("user-"))

    assert (status, body["code"]) == (422, "VALIDATION_FAILED")
    assert [d["field"] for d in body["details"]] == ["body"]


def _body_of_size(size: int) -> str:
    """A JSON profile whose bio pads the body to exactly `size` bytes."""
    skeleton = json.dumps({"handle": "sized", "displayName": "A", "bio": ""})
    body = json.dumps({"handle": "sized", "displayName": "A", "bio": "x" * (size - len(skeleton))})
    assert len(body.encode()) == size
    return body


def test_a_body_over_64_kib_is_refused_before_parsing(api: Api) -> None:
    status, body, _ = create_profile_raw(api, _body_of_size(BODY_LIMIT + 1))

    assert (status, body["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_a_body_of_exactly_64_kib_passes_the_size_guard(api: Api) -> None:
    # It reaches the schema, which then refuses the 65,000-character bio
    status, body, _ = create_profile_raw(api, _body_of_size(BODY_LIMIT))

    assert (status, body["code"]) == (422, "VALIDATION_FAILED")


def test_the_size_limit_counts_utf8_bytes_not_characters(api: Api) -> None:
    # 40,000 two-byte characters: under the limit in characters, over it in bytes
    raw_body = json.dumps({"handle": "sized", "displayName": "A", "bio": "é" * 40_000}, ensure_ascii=False)
    assert len(raw_body) < BODY_LIMIT < len(raw_body.encode())

    status, body, _ = create_profile_raw(api, raw_body)

    assert (status, body["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_a_base64_body_is_decoded_before_parsing(api: Api) -> None:
    user, handle = fresh("user-"), fresh("h")
    encoded = base64.b64encode(json.dumps({"handle": handle, "displayName": "Bé"}).encode()).decode()

    status, body, _ = create_profile_raw(api, encoded, user=user, base64=True)

    assert (status, body["handle"], body["displayName"]) == (201, handle, "Bé")


@pytest.mark.parametrize(
    "raw_body",
    [
        base64.b64encode(b'{"handle": "\xff\xfe\xfd", "displayName": "A"}').decode(),
        base64.b64encode("{}".encode("utf-16")).decode(),
        "not base64 at all!",
    ],
    ids=["latin-bytes", "utf-16", "invalid-base64"],
)
def test_a_body_that_is_not_utf8_is_refused(api: Api, raw_body: str) -> None:
    status, body, _ = create_profile_raw(api, raw_body, base64=True)

    assert (status, body["code"]) == (400, "INVALID_ENCODING")


def test_a_body_sent_as_another_content_type_is_refused(api: Api) -> None:
    status, body, _ = api(
        "POST",
        "/api/users",
        user=fresh("user-"),
        body={"handle": fresh("h"), "displayName": "A"},
        headers={"content-type": "text/plain"},
    )

    assert (status, body["code"]) == (415, "UNSUPPORTED_CONTENT_TYPE")


# Routes


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/nothing-here"), ("GET", "/"), ("DELETE", "/api/users/me"), ("PUT", "/api/tracks/x")],
)
def test_an_unknown_route_is_not_found(api: Api, method: str, path: str) -> None:
    assert error_code(api(method, path, user=fresh("user-"))) == (404, "ROUTE_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/nowhere", {}),
        ("GET", "/api/users/me", {"user": "nobody"}),
        ("POST", "/api/users", {"raw_body": "{"}),
        ("POST", "/api/users", {"user": "u", "body": {"handle": 1}}),
        ("POST", "/api/users", {"user": "u", "body": {"handle": "!!", "displayName": "A"}}),
        ("POST", "/api/upload/media", {"user": "u", "body": {"contentType": "application/pdf"}}),
        (
            "POST",
            "/api/upload/media",
            {"user": "u", "body": {"contentType": "video/mp4", "sizeBytes": 10**12}},
        ),
        ("POST", "/api/tracks", {"body": {"title": "x"}}),
        ("GET", "/api/tracks/unknown", {}),
        ("GET", "/api/tracks/unknown/visuals", {"query": {"limit": "0"}}),
        ("GET", "/api/visuals/unknown", {}),
    ],
)
def test_every_client_error_has_a_code_and_a_message(api: Api, method: str, path: str, kwargs: dict) -> None:
    status, body, headers = api(method, path, **kwargs)

    assert 400 <= status < 500
    assert headers["Content-Type"] == "application/json"
    assert isinstance(body["code"], str) and body["code"].isupper()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], list)


# Rate limiting


@pytest.fixture
def three_writes_a_minute(settings_env: Any, monkeypatch: pytest.MonkeyPatch) -> int:
    """RATE_LIMIT_MUTATIONS_PER_MINUTE=3, and the rate limiter's clock pinned 20 s into a window, so a
    test never straddles two windows. Returns how long a spent budget waits: the 40 s left in the window,
    then 20 s of the next, until the sliding window's share of these three writes is down to two."""
    from casset.data import rate_limits

    settings_env(RATE_LIMIT_MUTATIONS_PER_MINUTE="3")
    window_start = 1_800_000_000.0 - 1_800_000_000.0 % 60
    monkeypatch.setattr(
        rate_limits, "time", type("Clock", (), {"time": staticmethod(lambda: window_start + 20)})
    )
    return 60


def patch_me(api: Api, user: str) -> tuple[int, Any, dict]:
    return api("PATCH", "/api/users/me", user=user, body={"bio": "again"})


def test_the_fourth_write_in_a_minute_is_rate_limited(api: Api, three_writes_a_minute: int) -> None:
    # Given a user with a profile (one write) and two more writes this minute
    user = create_profile(api)
    assert [patch_me(api, user)[0] for _ in range(2)] == [200, 200]
    # When they write a fourth time
    status, body, headers = patch_me(api, user)
    # Then they are told to come back once a write fits in the sliding minute
    assert (status, body["code"]) == (429, "RATE_LIMITED")
    assert headers["Retry-After"] == str(three_writes_a_minute)
    assert int(headers["Retry-After"]) > 0


def test_a_refused_write_is_not_applied(api: Api, three_writes_a_minute: int) -> None:
    user = create_profile(api)
    patch_me(api, user)
    patch_me(api, user)

    status, _, _ = api("PATCH", "/api/users/me", user=user, body={"bio": "over the limit"})

    assert status == 429
    assert api("GET", "/api/users/me", user=user)[1]["bio"] == "again"


def test_one_users_limit_does_not_affect_another(api: Api, three_writes_a_minute: int) -> None:
    busy, other = create_profile(api), create_profile(api)
    patch_me(api, busy)
    patch_me(api, busy)
    assert patch_me(api, busy)[0] == 429

    assert [patch_me(api, other)[0] for _ in range(2)] == [200, 200]


def test_reads_are_not_counted(api: Api, three_writes_a_minute: int) -> None:
    user = create_profile(api)
    for _ in range(10):
        assert api("GET", "/api/users/me", user=user)[0] == 200

    assert [patch_me(api, user)[0] for _ in range(3)] == [200, 200, 429]


def test_the_budget_is_back_in_the_next_window(
    api: Api, three_writes_a_minute: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import rate_limits

    user = create_profile(api)
    patch_me(api, user)
    patch_me(api, user)
    assert patch_me(api, user)[0] == 429
    # A minute later
    later = rate_limits.time.time() + 60
    monkeypatch.setattr(rate_limits, "time", type("Clock", (), {"time": staticmethod(lambda: later)}))

    assert patch_me(api, user)[0] == 200


def test_the_write_budget_slides_across_the_minute(
    api: Api, settings_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import rate_limits

    settings_env(RATE_LIMIT_MUTATIONS_PER_MINUTE="3")
    minute = 1_900_000_000.0 - 1_900_000_000.0 % 60 + 60 * int.from_bytes(os.urandom(3))
    now = [minute + 58]
    monkeypatch.setattr(rate_limits, "time", type("Clock", (), {"time": staticmethod(lambda: now[0])}))
    # Given three writes in the last two seconds of a minute
    user = create_profile(api)
    assert [patch_me(api, user)[0] for _ in range(2)] == [200, 200]
    # When the user writes again two seconds into the next minute
    now[0] = minute + 62
    status, body, headers = patch_me(api, user)
    # Then the sliding minute still holds three writes: refused, for the 20 s until it holds two
    assert (status, body["code"]) == (429, "RATE_LIMITED")
    assert headers["Retry-After"] == "18"


def test_the_previous_windows_counter_is_read_strongly_consistent(
    api: Api, three_writes_a_minute: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data.tables import RateLimitItem

    # Given a user, and every read of a rate-limit counter recorded
    user = create_profile(api)
    real_get = RateLimitItem.get.__func__  # type: ignore[attr-defined]
    reads: list[tuple[str, bool | None]] = []

    def recorded(cls: type[RateLimitItem], key: str, *args: Any, **options: Any) -> RateLimitItem:
        reads.append((key, options.get("consistent_read")))
        return real_get(cls, key, *args, **options)  # type: ignore[no-any-return]

    monkeypatch.setattr(RateLimitItem, "get", classmethod(recorded))
    # When the user writes
    assert patch_me(api, user)[0] == 200
    # Then the previous window's counter was read strongly consistent: an eventually consistent read can
    # miss its last hits and let the sliding window take more than the limit
    assert reads and all(consistent for _, consistent in reads), reads
    assert all(key.startswith(f"mutations#{user}#") for key, _ in reads)
