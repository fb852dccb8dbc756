"""`python -m api.openapi` prints the OpenAPI 3.1 document of the HTTP API (make openapi): the API
function's and the Stripe webhook functions' routes (one HTTP API, several functions), as Powertools
generates them from the code, completed with what every route of a kind answers.

Routes declare their success answer and the errors of their own logic (api.routes.common). Here, from
each operation's shape, come the answers the shared machinery gives: a JSON body's 400 (not JSON, too
deep, bad numbers, not UTF-8), 413 (ours at 64 KiB, API Gateway's over its limit), 415 and 422; a
parameter's 422; a path parameter's 404 (a value the router does not match is ROUTE_NOT_FOUND); a
signed-in route's 401 (API Gateway's JWT authorizer, or the API's own); the write budget's 429
(api.guards); API Gateway's throttling 429; and 500/503 everywhere, ours or API Gateway's (a function that
timed out, crashed or failed to start). Each error status is one shared
response whose `code` is one of the catalogue's codes for that status (casset.error_codes), so nothing
here lists codes by hand."""

import json
import operator
from http import HTTPStatus
from typing import Any, NamedTuple

from api.app import SECURITY_SCHEMES, TITLE, VERSION, app
from api.guards import spends_write_budget
from casset.error_codes import ERROR_CODES
from webhooks.handler import app as webhooks_app

DESCRIPTION = (
    "Casset Visual Pairing: tracks, their visuals, hook exports and shares, and collects paid through "
    "Stripe Connect. Every error body is ErrorOut {code, message, details}; `code` is stable and each "
    "response lists the codes it can carry (ErrorOut.code's x-error-codes gives each code's meaning). "
    "API Gateway's own refusals (401 from the JWT authorizer, 413 over its payload limit, 429 when it "
    "throttles, 500/503 when the function times out, crashes or fails to start) have the body "
    "GatewayErrorOut {message}."
)
# The code is not open source; the contact is the team behind the site the short links open.
LICENSE = {"name": "Proprietary", "identifier": "LicenseRef-Casset-Proprietary"}
CONTACT = {"name": "Casset backend team", "url": "https://casset.fm"}
SERVERS = [
    {"url": "http://127.0.0.1:3000", "description": "The local stack (make dev)"},
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com",
        "description": "A deployed stage: the stack's ApiUrl output",
        "variables": {
            "apiId": {"default": "your-api-id", "description": "The HttpApi's id"},
            "region": {"default": "us-east-1", "description": "The stack's region"},
        },
    },
]
TAGS = [
    {"name": "users", "description": "Profiles and handles"},
    {"name": "tracks", "description": "Tracks, their audio, hook and reward"},
    {"name": "uploads", "description": "Presigned browser uploads"},
    {"name": "visuals", "description": "Visuals paired with a track: upload, order, activate, archive"},
    {"name": "metrics", "description": "Client-fired visual events"},
    {"name": "exports", "description": "Hook videos rendered for TikTok"},
    {"name": "shares", "description": "Hook shares and their short links"},
    {"name": "commerce", "description": "Stripe Connect onboarding, prices, checkout and entitlement"},
    {"name": "referrals", "description": "Referral links and credit"},
    {"name": "notifications", "description": "Notifications and activity feeds"},
    {"name": "features", "description": "Feature flags as a caller sees them"},
    {"name": "webhooks", "description": "Stripe's deliveries (its signature authenticates them)"},
]

GATEWAY_ERROR = "GatewayErrorOut"
_BODY_STATUSES = (
    HTTPStatus.BAD_REQUEST,
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
    HTTPStatus.UNPROCESSABLE_ENTITY,
)
_EVERYWHERE = (HTTPStatus.INTERNAL_SERVER_ERROR, HTTPStatus.SERVICE_UNAVAILABLE)
# Powertools' own validation-error schemas: our 422 body is ErrorOut (api.errors).
_POWERTOOLS_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
# pydantic leaves a bound it cannot fold into the JSON Schema (one set after an AfterValidator, as the
# quantised seconds of api.schemas have) under its own name; JSON Schema's are these.
_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


class Answer(NamedTuple):
    """An error status an operation can answer, and who answers it: our code (ErrorOut), API Gateway
    before it (GatewayErrorOut), or either."""

    status: HTTPStatus
    ours: bool
    gateway: bool

    @property
    def name(self) -> str:
        name = "".join(word.capitalize() for word in self.status.name.split("_"))
        if not self.ours:
            return f"Gateway{name}"
        return f"{name}OrGateway" if self.gateway else name

    def response(self) -> dict[str, Any]:
        phrase = self.status.phrase
        gateway: dict[str, Any] = {"$ref": f"#/components/schemas/{GATEWAY_ERROR}"}
        if not self.ours:
            return _json_response(f"{phrase}: API Gateway's own answer", gateway)
        codes = sorted(code for code, (status, _) in ERROR_CODES.items() if status == self.status)
        ours = {
            "allOf": [{"$ref": "#/components/schemas/ErrorOut"}, {"properties": {"code": {"enum": codes}}}]
        }
        description = f"{phrase}: code is one of {', '.join(codes)}"
        if self.gateway:
            return _json_response(f"{description}; or API Gateway's own answer", {"anyOf": [ours, gateway]})
        return _json_response(description, ours)


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _declared_errors(method: str, path: str, operation: dict[str, Any]) -> list[Answer]:
    """Each error status the operation can answer, and who answers it."""
    ours = {HTTPStatus(int(status)) for status in operation["responses"] if int(status) >= 400}
    ours.discard(HTTPStatus.UNPROCESSABLE_ENTITY)  # Powertools declares it on every route
    gateway = {HTTPStatus.TOO_MANY_REQUESTS}  # its throttling, on every route
    parameters = operation.get("parameters", [])
    if "requestBody" in operation:
        ours.update(_BODY_STATUSES)
        gateway.add(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)  # over its payload limit
    if parameters:
        ours.add(HTTPStatus.UNPROCESSABLE_ENTITY)
    if any(parameter["in"] == "path" for parameter in parameters):
        ours.add(HTTPStatus.NOT_FOUND)  # a value the router does not match is ROUTE_NOT_FOUND
    gateway.update(_EVERYWHERE)  # when the function times out, crashes or fails to start
    if operation.get("security"):
        ours.add(HTTPStatus.UNAUTHORIZED)
        gateway.add(HTTPStatus.UNAUTHORIZED)  # the JWT authorizer
        if spends_write_budget(method, path):
            ours.add(HTTPStatus.TOO_MANY_REQUESTS)
    ours.update(_EVERYWHERE)
    return [Answer(status, status in ours, status in gateway) for status in sorted(ours | gateway)]


def _complete(method: str, path: str, operation: dict[str, Any]) -> set[Answer]:
    """Completes one operation in place; returns the shared responses it uses."""
    declared = _declared_errors(method, path, operation)
    responses = {status: response for status, response in operation["responses"].items() if int(status) < 400}
    for response in responses.values():
        # Redirects and 204s have no body (Powertools gives every response its return type's).
        if not response.get("content"):
            response.pop("content", None)
    for answer in declared:
        responses[str(int(answer.status))] = {"$ref": f"#/components/responses/{answer.name}"}
    operation["responses"] = dict(sorted(responses.items()))
    # Anonymous operations say so; otherwise the document's (absent) default would leave it unsaid.
    operation.setdefault("security", [])
    return set(declared)


def _json_schema_bounds(node: Any) -> None:
    """Renames pydantic's leftover bounds in place, keeping the stricter of minimum/exclusiveMinimum (and
    maximum/exclusiveMaximum) where a field has both."""
    if isinstance(node, list):
        for item in node:
            _json_schema_bounds(item)
        return
    if not isinstance(node, dict):
        return
    if "type" in node:
        for pydantic_name, name in _BOUNDS.items():
            if pydantic_name in node and not isinstance(node[pydantic_name], dict):
                node[name] = node.pop(pydantic_name)
        for inclusive, exclusive, stricter in (
            ("minimum", "exclusiveMinimum", operator.ge),
            ("maximum", "exclusiveMaximum", operator.le),
        ):
            if inclusive in node and exclusive in node:
                node.pop(inclusive if stricter(node[exclusive], node[inclusive]) else exclusive)
    for value in node.values():
        _json_schema_bounds(value)


def build() -> dict[str, Any]:
    merged: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes=SECURITY_SCHEMES,
        )
    )
    webhooks = json.loads(webhooks_app.get_openapi_json_schema(title=TITLE, version=VERSION))
    merged["paths"].update(webhooks["paths"])
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in webhooks.get("components", {}).get("schemas", {}).items():
        schemas.setdefault(name, schema)
    merged["info"] |= {"license": LICENSE, "contact": CONTACT}
    merged["servers"] = SERVERS
    merged["tags"] = TAGS
    used: set[Answer] = set()
    for path, operations in merged["paths"].items():
        for method, operation in operations.items():
            used |= _complete(method, path, operation)
    for name in _POWERTOOLS_SCHEMAS:
        schemas.pop(name, None)
    schemas[GATEWAY_ERROR] = {
        "type": "object",
        "title": GATEWAY_ERROR,
        "description": 'API Gateway\'s own refusal, e.g. {"message": "Unauthorized"}',
        "properties": {"message": {"type": "string"}},
        "required": ["message"],
        "additionalProperties": False,
    }
    merged["components"]["schemas"] = dict(sorted(schemas.items()))
    _json_schema_bounds(merged)
    merged["components"]["responses"] = {answer.name: answer.response() for answer in sorted(used)}
    return merged


def document() -> str:
    return json.dumps(build(), indent=2)


if __name__ == "__main__":
    print(document())
