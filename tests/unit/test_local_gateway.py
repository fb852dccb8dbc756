"""The local API Gateway stand-in builds the events the real one would and checks tokens like the
JWT authorizer does."""

import base64
import json
import time
from typing import Any

import jwt
import pytest
from werkzeug.test import Client

from infra.local import gateway as gateway_module
from infra.local import tokens
from infra.local.blueprint import blueprint
from infra.local.gateway import Gateway


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []

    def fake_invoke(spec: Any, event: dict[str, Any]) -> dict[str, Any]:
        events.append(event)
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": '{"ok": true}',
            "cookies": ["a=1"],
        }

    monkeypatch.setattr(gateway_module, "invoke", fake_invoke)
    return events


@pytest.fixture
def client() -> Client:
    return Client(Gateway(blueprint(), tokens.verify))


def test_a_route_becomes_a_payload_2_event(client: Client, captured: list) -> None:
    token = tokens.issue("artist-1", ["admin"])
    response = client.patch(
        "/api/tracks/t1/visuals/v1/active?x=1&x=2",
        json={"active": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == ["a=1"]
    event = captured[0]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "PATCH /api/tracks/{trackId}/visuals/{visualId}/active"
    assert event["pathParameters"] == {"trackId": "t1", "visualId": "v1"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert json.loads(event["body"]) == {"active": True} and event["isBase64Encoded"] is False
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert claims["sub"] == "artist-1" and claims["cognito:groups"] == "[admin]"


def test_binary_bodies_arrive_base64_encoded(client: Client, captured: list) -> None:
    token = tokens.issue("artist-1")
    client.post(
        "/api/tracks",
        data=b"\xff\xfe\x00",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert captured[0]["isBase64Encoded"] is True
    assert base64.b64decode(captured[0]["body"]) == b"\xff\xfe\x00"


def test_anonymous_routes_carry_no_authorizer(client: Client, captured: list) -> None:
    assert client.get("/api/tracks/t1/visuals").status_code == 200
    assert "authorizer" not in captured[0]["requestContext"]


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not.a.jwt"])
def test_protected_routes_need_a_valid_bearer_token(
    client: Client, captured: list, header: str | None
) -> None:
    response = client.post("/api/tracks", json={}, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.get_json() == {"message": "Unauthorized"}
    assert captured == []


def test_unknown_routes_are_404_before_any_function_runs(client: Client, captured: list) -> None:
    assert client.get("/nope").status_code == 404
    assert client.delete("/api/tracks/t1").status_code == 404
    assert captured == []


def test_tokens_round_trip_with_their_claims() -> None:
    claims = tokens.verify(tokens.issue("u-1", ["admin"]))
    assert claims["sub"] == "u-1" and claims["cognito:groups"] == ["admin"]
    assert claims["iss"] == blueprint().jwt_issuer


def test_expired_tokens_are_refused() -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(tokens.issue("u-1", ttl_sec=-10))


def test_tokens_for_another_audience_or_key_are_refused() -> None:
    now = int(time.time())
    claims = {"sub": "u", "iss": blueprint().jwt_issuer, "aud": "someone-else", "exp": now + 60}
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(jwt.encode(claims, tokens._secret(), algorithm="HS256"))
    claims["aud"] = blueprint().jwt_audience[0]
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(jwt.encode(claims, "another-secret-that-is-long-enough-32b", algorithm="HS256"))
