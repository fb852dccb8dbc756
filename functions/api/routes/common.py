"""What the routers share: the caller, OpenAPI security and error responses, created-responses."""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from pydantic import BaseModel

from api.auth import caller_of
from api.schemas import ErrorOut
from casset.rules import Caller

SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def errors(*statuses: int) -> dict[int, dict[str, Any]]:
    """OpenAPI entries for the error responses a route can give (all share ErrorOut)."""
    return {
        status: {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": ErrorOut}},
        }
        for status in statuses
    }


WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422, 429)
READ_ERRORS = errors(400, 404, 422)


def caller(router: APIGatewayHttpRouter) -> Caller:
    return caller_of(router.current_event)


def created(body: BaseModel) -> Response:
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=body)
