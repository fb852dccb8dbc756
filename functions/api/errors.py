"""The one place where failures become HTTP responses. Every error body is {code, message, details}."""

import binascii
from http import HTTPStatus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from api.schemas import ErrorOut
from casset.errors import DomainError

logger = Logger(child=True)


def error_response(
    status: int, code: str, message: str, details: list[dict] | None = None, headers: dict | None = None
) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorOut(code=code, message=message, details=details or []).model_dump_json(by_alias=True),
        headers=headers,
    )


def _field(location: tuple) -> str:
    return ".".join(str(part) for part in location)


def register(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(DomainError)
    def domain_error(error: DomainError) -> Response:
        headers = {"Retry-After": str(error.retry_after_sec)} if error.retry_after_sec is not None else None
        if error.status >= 500:
            logger.warning("dependency unavailable", extra={"code": error.code})
        return error_response(error.status, error.code, error.message, error.details, headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        details = [
            # Pydantic's own message text is safe and useful; its input echo and URLs are not.
            {"field": _field(issue["loc"]), "type": issue["type"], "message": issue.get("msg", "")}
            for issue in error.errors()
        ]
        if any(issue["type"] == "json_invalid" for issue in error.errors()):
            return error_response(HTTPStatus.BAD_REQUEST, "MALFORMED_JSON", "The body is not valid JSON.")
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "VALIDATION_FAILED",
            "The request does not match the schema.",
            details,
        )

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
        return error_response(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_CONTENT_TYPE",
            "Send the body as application/json.",
        )

    @app.exception_handler([UnicodeDecodeError, binascii.Error])
    def undecodable_body(_: Exception) -> Response:
        return error_response(
            HTTPStatus.BAD_REQUEST, "INVALID_ENCODING", "The body must be UTF-8 encoded JSON."
        )

    @app.not_found
    def route_not_found(_: NotFoundError) -> Response:
        return error_response(HTTPStatus.NOT_FOUND, "ROUTE_NOT_FOUND", "No such route.")

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response:
        logger.exception("unhandled error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on our side; it has been logged.",
        )
