"""Request guards that run inside the resolver, so their errors go through the one error mapping."""

import json
import math
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from aws_lambda_powertools.event_handler.types import EventHandlerInstance

from api.auth import caller_of
from casset import inputs
from casset.data import rate_limits
from casset.errors import BadRequest, PayloadTooLarge, RateLimited
from casset.settings import get_settings

JSON_MEDIA_TYPE = "application/json"
_MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
_WINDOW_SEC = 60
# Metrics events change nothing of the caller's and have their own limit per viewer and visual; a fan
# flipping through visuals must not spend the budget their real changes (a checkout) need.
_OWN_LIMIT = re.compile(r"/api/(me/)?visuals/[^/]+/event")


def parse_json_body(body: str) -> Any:
    """The resolver's body deserializer: size first, then nesting depth (before any parsing recursion),
    then JSON with numbers DynamoDB can store (casset.inputs), each with its own error code."""
    limit = get_settings().max_body_bytes
    if len(body) > limit or len(body.encode()) > limit:
        raise PayloadTooLarge(f"Request bodies are limited to {limit} bytes.")
    try:
        return inputs.parse_json(body)
    except json.JSONDecodeError as error:
        raise BadRequest(
            f"The body is not valid JSON: {error.msg} at position {error.pos}.", code="MALFORMED_JSON"
        ) from error


def spends_write_budget(method: str, path: str) -> bool:
    """Whether a signed-in caller's request counts against their writes a minute (the OpenAPI document
    declares 429 from this too)."""
    return method.upper() in _MUTATING and not _OWN_LIMIT.fullmatch(path)


def rate_limit_mutations(app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
    """A budget of writes per signed-in caller in any minute (sliding, as the render budget: a fixed
    minute would let twice the budget through across its boundary); API Gateway throttles the rest."""
    caller = caller_of(app.current_event)
    method = app.current_event.request_context.http.method
    if caller.user_id and spends_write_budget(method, app.current_event.path):
        limit = get_settings().mutations_per_minute
        wait_sec = rate_limits.take(rate_limits.Budget(f"mutations#{caller.user_id}", limit, _WINDOW_SEC))
        if wait_sec is not None:
            raise RateLimited(
                f"Too many changes: {limit} a minute. Try again shortly.",
                retry_after_sec=max(1, math.ceil(wait_sec)),
            )
    return next_middleware(app)


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation for an API whose bodies are JSON only. Powertools would also parse
    form and multipart bodies into the models (and a multipart type without a boundary escapes it as a
    bare ValueError, a 500), and it compares media types case-sensitively; here application/json (any
    case, any parameters) or no Content-Type is JSON, and any other body type is a 415."""

    def _get_body(self, app: EventHandlerInstance) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in {"", JSON_MEDIA_TYPE}:
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": media_type[:100]}],
            )
        return self._parse_json_data(app)


def install_json_body_validation(app: APIGatewayHttpResolver) -> None:
    """Before the first request: Powertools builds each route's middleware stack from this attribute."""
    app._request_validation_middleware = JsonBodyValidation()


Middleware = Callable[[APIGatewayHttpResolver, NextMiddleware], Response]
