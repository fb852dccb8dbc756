"""The bell and the artist's activity feed."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from api.routes.common import PAGED_READ_ERRORS, SIGNED_IN, WRITE_ERRORS, PathId, caller, ok_response
from api.schemas import (
    ActivityOut,
    ActivityPageOut,
    MarkReadOut,
    MarkReadRequest,
    NotificationOut,
    NotificationPageOut,
)
from casset.data.pages import Position, decode_cursor, encode_cursor
from casset.services import feeds

router = APIGatewayHttpRouter()
Limit = Annotated[int, Query(ge=1, le=100)]


def _before(cursor: str | None) -> str | None:
    return decode_cursor(cursor).sort_key if cursor else None


def _next(item_id: str | None) -> str | None:
    return encode_cursor(Position(item_id, item_id)) if item_id else None


@router.get(
    "/api/notifications",
    operation_id="listNotifications",
    summary="The caller's notifications, newest first, with the unread count",
    tags=["notifications"],
    security=SIGNED_IN,
    responses=ok_response() | PAGED_READ_ERRORS,
)
def list_notifications(
    limit: Limit = 20, cursor: Annotated[str | None, Query(max_length=512)] = None
) -> NotificationPageOut:
    page = feeds.notifications(caller(router), limit, _before(cursor))
    return NotificationPageOut(
        items=[NotificationOut.of(item) for item in page.items],
        next_cursor=_next(page.next_cursor),
        unread=page.unread,
    )


@router.post(
    "/api/notifications/read",
    operation_id="markNotificationsRead",
    summary="Mark the caller's notifications read",
    tags=["notifications"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def mark_read(request: Annotated[MarkReadRequest, Body()]) -> MarkReadOut:
    return MarkReadOut(marked=feeds.mark_read(caller(router), request.ids))


@router.get(
    "/api/artists/<artistId>/activity",
    operation_id="listArtistActivity",
    summary="An artist's activity feed (@fan collected ...), newest first",
    tags=["notifications"],
    responses=ok_response() | PAGED_READ_ERRORS,
)
def artist_activity(
    artistId: PathId, limit: Limit = 20, cursor: Annotated[str | None, Query(max_length=512)] = None
) -> ActivityPageOut:
    items, next_id = feeds.activity(artistId, limit, _before(cursor))
    return ActivityPageOut(items=[ActivityOut.of(item) for item in items], next_cursor=_next(next_id))
