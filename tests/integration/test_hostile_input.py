"""Hostile input through the real API handler: each of these was a 500 (or reached DynamoDB) before; each
is now a 4xx with a stable code, and nothing is written."""

import json
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.support import (
    Api,
    Artist,
    create_profile,
    error_code,
    fresh,
    track_item,
    upload_media,
)

# Under the 64 KiB body limit, thousands of levels deep.
DEEP_JSON = "[" * 30_000 + "]" * 30_000


def _profile_body() -> str:
    return json.dumps({"handle": fresh("h"), "displayName": "Someone"})


def _my_profile_status(api: Api, user: str) -> int:
    return api("GET", "/api/users/me", user=user)[0]


# Bodies that are not JSON, or JSON no parser should recurse into


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "text/plain",
    ],
)
def test_a_json_route_refuses_any_other_body_type(api: Api, content_type: str) -> None:
    user = fresh("user-")

    reply = api(
        "POST", "/api/users", user=user, raw_body=_profile_body(), headers={"content-type": content_type}
    )

    assert error_code(reply) == (415, "UNSUPPORTED_CONTENT_TYPE")
    assert _my_profile_status(api, user) == 404


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_with_parameters_or_in_capitals_is_json(api: Api, content_type: str) -> None:
    user = fresh("user-")

    reply = api(
        "POST", "/api/users", user=user, raw_body=_profile_body(), headers={"content-type": content_type}
    )

    assert reply[0] == 201, reply[1]


def test_json_nested_thousands_deep_is_refused_before_parsing(api: Api) -> None:
    user = fresh("user-")

    reply = api("POST", "/api/users", user=user, raw_body=DEEP_JSON)

    assert error_code(reply) == (400, "JSON_TOO_DEEP")
    assert _my_profile_status(api, user) == 404


def test_brackets_inside_strings_do_not_count_as_nesting(api: Api) -> None:
    user, handle = fresh("user-"), fresh("h")
    body = json.dumps({"handle": handle, "displayName": "Brackets", "bio": "[{" * 200})

    status, reply, _ = api("POST", "/api/users", user=user, raw_body=body)

    assert (status, reply["bio"]) == (201, "[{" * 200)


@pytest.mark.parametrize(
    "number",
    ["1" * 5000, "NaN", "Infinity", "-Infinity", "1e400"],
    ids=["5000-digit-integer", "nan", "infinity", "minus-infinity", "float-overflow"],
)
def test_a_number_no_field_can_hold_is_refused_while_parsing(api: Api, artist: Artist, number: str) -> None:
    body = f'{{"title": "Numbers", "previewStartSec": {number}}}'

    reply = api("POST", "/api/tracks", user=artist.user_id, raw_body=body)

    assert error_code(reply) == (400, "INVALID_NUMBER")


# Numbers


def _stored_number(track_id: str, attribute: str) -> str:
    """The number as DynamoDB holds it, normalised (moto keeps the text it was sent: 0.0, 5.0)."""
    item = track_item(track_id)
    assert item is not None
    return format(Decimal(item[attribute]["N"]).normalize(), "f")


def test_seconds_are_quantised_to_the_millisecond_before_they_are_stored(api: Api, artist: Artist) -> None:
    # 1e-300 is a "Number underflow" for DynamoDB; 12.3456789 s is 12.346 s of audio
    status, created, _ = api(
        "POST", "/api/tracks", user=artist.user_id, body={"title": "Tiny", "previewStartSec": 1e-300}
    )
    assert status == 201, created
    track_id = created["track"]["id"]
    assert created["track"]["previewStartSec"] == 0.0
    assert _stored_number(track_id, "previewStartSec") == "0"

    status, patched, _ = api(
        "PATCH",
        f"/api/tracks/{track_id}",
        user=artist.user_id,
        body={"previewStartSec": 12.3456789, "hookDurationSec": 5.0000001},
    )

    assert (status, patched["previewStartSec"], patched["hookDurationSec"]) == (200, 12.346, 5.0)
    stored = [_stored_number(track_id, name) for name in ("previewStartSec", "hookDurationSec")]
    assert stored == ["12.346", "5"]


@pytest.mark.parametrize(
    ("body", "field", "error_type"),
    [
        ({"title": "T", "previewStartSec": "5"}, "body.previewStartSec", "float_type"),
        ({"title": "T", "previewStartSec": True}, "body.previewStartSec", "float_type"),
        ({"title": "T", "hookDurationSec": "10"}, "body.hookDurationSec", "float_type"),
        ({"title": "T", "previewStartSec": -0.001}, "body.previewStartSec", "greater_than_equal"),
    ],
    ids=["string-seconds", "bool-seconds", "string-duration", "negative"],
)
def test_seconds_must_be_numbers_in_range(
    api: Api, artist: Artist, body: dict[str, Any], field: str, error_type: str
) -> None:
    status, reply, _ = api("POST", "/api/tracks", user=artist.user_id, body=body)

    assert (status, reply["code"]) == (422, "VALIDATION_FAILED")
    assert [(d["field"], d["type"]) for d in reply["details"]] == [(field, error_type)]


@pytest.mark.parametrize("amount", ["500", True, 500.0, 500.5], ids=["string", "bool", "float", "fraction"])
def test_money_is_an_integer_of_minor_units(api: Api, artist: Artist, amount: Any) -> None:
    status, reply, _ = api("PUT", "/api/studio/collect-price", user=artist.user_id, body={"amount": amount})

    assert (status, reply["code"]) == (422, "VALIDATION_FAILED")
    assert [(d["field"], d["type"]) for d in reply["details"]] == [("body.amount", "int_type")]
    assert api("GET", "/api/users/me", user=artist.user_id)[1]["collectPrice"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/studio/collect-price", {"amount": 500, "currency": "USD\n"}, "body.currency"),
        ("/api/users/me", {"isArtist": "true"}, "body.isArtist"),
        ("/api/upload/media", {"contentType": "video/mp4", "sizeBytes": "1000"}, "body.sizeBytes"),
        ("/api/upload/media", {"contentType": "video/mp4", "sizeBytes": 2**53}, "body.sizeBytes"),
    ],
    ids=["currency-newline", "string-bool", "string-size", "size-beyond-any-file"],
)
def test_flags_counts_and_codes_are_strict_and_bounded(
    api: Api, artist: Artist, path: str, body: dict[str, Any], field: str
) -> None:
    method = {"/api/users/me": "PATCH", "/api/studio/collect-price": "PUT"}.get(path, "POST")

    status, reply, _ = api(method, path, user=artist.user_id, body=body)

    assert (status, reply["code"]) == (422, "VALIDATION_FAILED")
    assert [d["field"] for d in reply["details"]] == [field]


# Handles and slugs that are empty once folded


@pytest.mark.parametrize(
    "handle", ["@", "   ", "\x1c", "@ \x1c "], ids=["at", "spaces", "separator", "mixed"]
)
def test_a_handle_empty_after_folding_is_refused_at_creation(api: Api, handle: str) -> None:
    user = fresh("user-")

    reply = api("POST", "/api/users", user=user, body={"handle": handle, "displayName": "Someone"})

    assert error_code(reply) == (400, "INVALID_HANDLE")
    assert _my_profile_status(api, user) == 404


@pytest.mark.parametrize("slug", ["@", "%20", "@%20"], ids=["at", "space", "at-space"])
def test_a_handle_or_slug_empty_after_folding_is_not_found(api: Api, slug: str) -> None:
    buyer = create_profile(api, artist=False)

    assert error_code(api("GET", f"/api/users/{slug}")) == (404, "USER_NOT_FOUND")
    assert error_code(api("GET", f"/api/casset/{slug}/collect")) == (404, "ARTIST_NOT_FOUND")
    assert error_code(api("POST", f"/api/casset/{slug}/referral-link", user=buyer)) == (
        404,
        "ARTIST_NOT_FOUND",
    )
    checkout = api("POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": slug})
    assert error_code(checkout) == (404, "ARTIST_NOT_FOUND")


# Text that someone else sees


@pytest.mark.parametrize(
    "text",
    [
        "Night\x00Drive",
        "Night\x1cDrive",
        "Night\x7f",
        "line\nbreak",
        "exe.\u202emp3",
        "a\u2066b\u2069",
        "\u200b\u200d",
        "\u3164",
        " \ufe0f ",
    ],
    ids=[
        "nul",
        "separator",
        "delete",
        "newline",
        "rtl-override",
        "isolate",
        "zero-width",
        "hangul-filler",
        "selector",
    ],
)
def test_shown_text_refuses_controls_bidi_overrides_and_invisible_text(
    api: Api, artist: Artist, text: str
) -> None:
    title = api("POST", "/api/tracks", user=artist.user_id, body={"title": text})
    name = api("PATCH", "/api/users/me", user=artist.user_id, body={"displayName": text})

    assert [error_code(title), error_code(name)] == [(422, "VALIDATION_FAILED")] * 2
    assert [d["field"] for d in title[1]["details"]] == ["body.title"]
    assert [d["field"] for d in name[1]["details"]] == ["body.displayName"]
    assert api("GET", "/api/users/me", user=artist.user_id)[1]["displayName"] == "Someone"


def test_shown_text_keeps_emoji_sequences_right_to_left_text_and_line_breaks_where_they_belong(
    api: Api, artist: Artist
) -> None:
    title = "Night 👩\u200d🎤 ليل\u200f"
    status, created, _ = api("POST", "/api/tracks", user=artist.user_id, body={"title": title})
    status_bio, profile, _ = api("PATCH", "/api/users/me", user=artist.user_id, body={"bio": "one\ntwo"})
    refused_bio = api("PATCH", "/api/users/me", user=artist.user_id, body={"bio": "one\ttwo"})

    assert (status, created["track"]["title"]) == (201, title)
    assert (status_bio, profile["bio"]) == (200, "one\ntwo")
    assert error_code(refused_bio) == (422, "VALIDATION_FAILED")


def test_a_reward_description_with_a_bidi_override_is_refused(api: Api, artist: Artist) -> None:
    body = {"rewardAmount": 500, "rewardDescription": "free \u202edemo"}

    reply = api("PUT", f"/api/tracks/{artist.track_id}/reward", user=artist.user_id, body=body)

    assert error_code(reply) == (422, "VALIDATION_FAILED")
    assert [d["field"] for d in reply[1]["details"]] == ["body.rewardDescription"]
    assert "reward" not in (track_item(artist.track_id) or {})


# Upload keys are matched whole


def test_an_upload_key_with_a_trailing_newline_is_not_a_key_we_handed_out(
    api: Api, artist: Artist, media: Any
) -> None:
    key = upload_media(api, artist.user_id, media.clip, "video/mp4")

    reply = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals", user=artist.user_id, body={"uploadKey": key + "\n"}
    )

    assert error_code(reply) == (400, "INVALID_UPLOAD_KEY")
    studio = api("GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id)
    assert studio[1]["items"] == []


# Ids in paths are DynamoDB keys


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/tracks/{long}", "path.trackId"),
        ("GET", "/api/users/{long}", "path.handle"),
        ("GET", "/api/entitlements/{long}", "path.artistId"),
        ("GET", "/s/{long}", "path.shareId"),
        ("POST", "/api/visuals/{long}/event", "path.visualId"),
    ],
)
def test_an_id_longer_than_any_key_is_refused_before_it_reaches_dynamodb(
    api: Api, method: str, path: str, field: str
) -> None:
    # DynamoDB refuses a key over 2048 bytes with a ValidationException (a 500); moto does not.
    reply = api(method, path.format(long="x" * 3000), user=fresh("user-"), body={"type": "impression"})

    assert error_code(reply) == (422, "VALIDATION_FAILED")
    assert [d["field"] for d in reply[1]["details"]] == [field]
