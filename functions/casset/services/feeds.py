"""The bell (a user's notifications) and an artist's public activity feed."""

from dataclasses import dataclass

from casset.data import feeds as feeds_data
from casset.data import users as users_data
from casset.entities import ActivityEvent, Notification
from casset.errors import BadRequest, NotFound
from casset.rules import Caller

_MAX_ID = 200


@dataclass(frozen=True)
class NotificationPage:
    items: list[Notification]
    next_cursor: str | None
    unread: int


def _cursor(before: str | None) -> str | None:
    if before is not None and not 0 < len(before) <= _MAX_ID:
        raise BadRequest("The cursor is not one this API handed out.", code="INVALID_CURSOR")
    return before


def notifications(caller: Caller, limit: int, before: str | None) -> NotificationPage:
    user_id = caller.require_user()
    items, next_cursor = feeds_data.notifications_of(user_id, limit, _cursor(before))
    return NotificationPage(items, next_cursor, feeds_data.unread_count(user_id))


def mark_read(caller: Caller, notification_ids: list[str]) -> int:
    return feeds_data.mark_read(caller.require_user(), notification_ids)


def activity(artist_id: str, limit: int, before: str | None) -> tuple[list[ActivityEvent], str | None]:
    artist = users_data.get_user(artist_id)
    if artist is None or not artist.is_artist:
        raise NotFound("No such artist.", code="ARTIST_NOT_FOUND")
    return feeds_data.activity_of(artist_id, limit, _cursor(before))
