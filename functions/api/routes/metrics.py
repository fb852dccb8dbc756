"""Visual metrics ingestion: fire-and-forget events (202), counted by the metrics aggregator.

Two routes, one behaviour: an HTTP API route is either behind the JWT authorizer or anonymous, and an
anonymous route never sees who is signed in. Fans who are not signed in post to /api/visuals/{id}/event
and are told apart by a salted hash of their address and browser; signed-in clients post to
/api/me/visuals/{id}/event and count as their user."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import SIGNED_IN, PathId, accepted_response, caller, errors
from api.schemas import VisualEventOut, VisualEventRequest
from casset.rules import Caller
from casset.services import metrics

router = APIGatewayHttpRouter()

_DESCRIPTION = (
    "Client-fired on actual UX events; answers 202 and the counters follow within seconds. Rate-limited "
    "per viewer and visual (429 RATE_LIMITED with Retry-After). An impression the same viewer already made "
    "within the window (30 minutes) answers counted: false. Only READY visuals take events (else 404), "
    "only while the artist has visual pairing (else 403 FEATURE_DISABLED); a pairing counts only from a "
    "signed-in caller (401 UNAUTHORIZED on the anonymous route)."
)


def _record(who: Caller, visual_id: str, request: VisualEventRequest) -> Response[VisualEventOut]:
    http = router.current_event.request_context.http
    accepted = metrics.record_event(who, visual_id, request.type, http.source_ip, http.user_agent or "")
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=VisualEventOut(event_id=accepted.event_id, counted=accepted.counted),
    )


@router.post(
    "/api/visuals/<visualId>/event",
    operation_id="recordVisualEvent",
    summary="Record an impression, pairing, export or share of a visual (anonymous viewer)",
    description=_DESCRIPTION,
    tags=["metrics"],
    responses=accepted_response(VisualEventOut) | errors(401, 403, 404, 429),
)
def record_event(
    visualId: PathId, request: Annotated[VisualEventRequest, Body()]
) -> Response[VisualEventOut]:
    # Anonymous by route: whatever the headers say, the viewer is the hashed address and browser.
    return _record(Caller(), visualId, request)


@router.post(
    "/api/me/visuals/<visualId>/event",
    operation_id="recordMyVisualEvent",
    summary="Record an impression, pairing, export or share of a visual, as the signed-in caller",
    description=_DESCRIPTION,
    tags=["metrics"],
    security=SIGNED_IN,
    responses=accepted_response(VisualEventOut) | errors(403, 404, 429),
)
def record_my_event(
    visualId: PathId, request: Annotated[VisualEventRequest, Body()]
) -> Response[VisualEventOut]:
    who = caller(router)
    who.require_user()
    return _record(who, visualId, request)
