"""What the routers share: the caller, OpenAPI security and error responses, created-responses."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from api.auth import caller_of
from api.schemas import ErrorOut
from casset.rules import Caller

SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}]
# Every id, handle, slug and code in a path is a DynamoDB key, which holds at most 2048 bytes (a longer
# one is a ValidationException, not a miss); ours are at most 64 characters.
PathId = Annotated[str, Path(min_length=1, max_length=128)]


def errors(*statuses: int) -> dict[int, OpenAPIResponse]:
    """OpenAPI entries for the error responses a route's own logic can give (all share ErrorOut). The
    answers every route of a kind gives (a body's 400/413/415/422, a signed-in route's 401, the write
    budget's 429, 500 and 503) are declared from the route's shape by api.openapi, with each status's codes
    from the error catalogue."""
    return {status: _json_response(HTTPStatus(status).phrase, ErrorOut) for status in statuses}


def ok_response(description: str = "OK") -> dict[int, OpenAPIResponse]:
    """200 with the route's return type as the body (Powertools drops its default 200 once a route lists
    any `responses`)."""
    return {HTTPStatus.OK: {"description": description}}


def created_response(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    return {HTTPStatus.CREATED: _json_response("Created", model)}


def redirect_response(description: str) -> dict[int, OpenAPIResponse]:
    """302 without a body: where to go, and the referral cookie when the link credits someone."""
    return {
        HTTPStatus.FOUND: {
            "description": description,
            "headers": {
                "Location": {"description": "Where to go", "schema": {"type": "string", "format": "uri"}},
                "Set-Cookie": {
                    "description": "The 30-day `ref` attribution cookie, when the link credits a referrer",
                    "schema": {"type": "string"},
                },
                "Cache-Control": {"schema": {"type": "string", "const": "no-store"}},
            },
            "content": {},
        }
    }


def accepted_response(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    return {HTTPStatus.ACCEPTED: _json_response("Accepted: queued or in progress", model)}


def _json_response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


# What a write's and a read's own logic refuses with, on top of what api.openapi declares from the shape.
WRITE_ERRORS = errors(400, 403, 404, 409)
READ_ERRORS = errors(404)
# A page cursor this API did not hand out is a 400 INVALID_CURSOR.
PAGED_READ_ERRORS = READ_ERRORS | errors(400)
# A read behind a feature flag (casset.flags.require_for) is a 403 FEATURE_DISABLED while it is off; a
# write declares 403 already (WRITE_ERRORS).
FEATURE_GATED = errors(403)


def caller(router: APIGatewayHttpRouter) -> Caller:
    return caller_of(router.current_event)


def created(body: BaseModel) -> Response:
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=body)
