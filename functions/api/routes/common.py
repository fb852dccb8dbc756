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
    """OpenAPI entries for the error responses a route can give (all share ErrorOut)."""
    return {status: _json_response(HTTPStatus(status).phrase, ErrorOut) for status in statuses}


def created_response(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    return {HTTPStatus.CREATED: _json_response("Created", model)}


def accepted_response(model: type[BaseModel]) -> dict[int, OpenAPIResponse]:
    return {HTTPStatus.ACCEPTED: _json_response("Accepted: queued or in progress", model)}


def _json_response(description: str, model: type[BaseModel]) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


WRITE_ERRORS = errors(400, 401, 403, 404, 409, 413, 422, 429)
READ_ERRORS = errors(400, 404, 422)


def caller(router: APIGatewayHttpRouter) -> Caller:
    return caller_of(router.current_event)


def created(body: BaseModel) -> Response:
    return Response(status_code=HTTPStatus.CREATED, content_type=content_types.APPLICATION_JSON, body=body)
