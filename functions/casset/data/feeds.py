"""Notifications (a user's bell) and activity (an artist's public feed). Both are written with the purchase
effects that cause them (data/purchases.py); here they are read and marked read."""

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError

from casset.data._dynamo import cancellation_codes, fetch, ready, transaction, translated_errors
from casset.data.tables import (
    UNREAD_COUNTER_ID,
    ActivityItem,
    NotificationCounterItem,
    NotificationItem,
)
from casset.entities import ActivityEvent, Notification


def _to_notification(item: NotificationItem) -> Notification:
    return Notification(
        user_id=item.user_id,
        id=item.id,
        kind=item.kind,
        message=item.message,
        purchase_id=item.purchase_id,
        read=bool(item.read),
        created_at=item.created_at,
    )


def _to_activity(item: ActivityItem) -> ActivityEvent:
    return ActivityEvent(
        artist_id=item.artist_id,
        id=item.id,
        kind=item.kind,
        message=item.message,
        actor_id=item.actor_id,
        actor_handle=item.actor_handle,
        purchase_id=item.purchase_id,
        created_at=item.created_at,
    )


def notifications_of(user_id: str, limit: int, before: str | None) -> tuple[list[Notification], str | None]:
    """Newest first; the second value is the id to continue before (None on the last page). The unread
    counter's item sorts after every notification, so starting before it leaves it out."""
    return _newest_first(NotificationItem, user_id, limit, before or UNREAD_COUNTER_ID, _to_notification)


def unread_count(user_id: str) -> int:
    """One item read: the counter the writes keep (never below zero: notifications stored before the
    counter existed are marked read without ever having been counted)."""
    counter = fetch(NotificationCounterItem, user_id, UNREAD_COUNTER_ID)
    return max(0, int(counter.unread)) if counter else 0


def mark_read(user_id: str, notification_ids: list[str]) -> int:
    """Marks the caller's own unread notifications read, each in one transaction with the unread counter;
    ids that are not theirs, or already read, change nothing. Returns how many were marked."""
    return sum(_mark_one_read(user_id, notification_id) for notification_id in set(notification_ids))


def _mark_one_read(user_id: str, notification_id: str) -> bool:
    try:
        with translated_errors(), transaction() as writer:
            writer.update(
                NotificationItem(user_id=user_id, id=notification_id),
                actions=[NotificationItem.read.set(True)],
                condition=NotificationItem.id.exists() & (NotificationItem.read == False),  # noqa: E712
            )
            writer.update(
                NotificationCounterItem(user_id=user_id), actions=[NotificationCounterItem.unread.add(-1)]
            )
    except TransactWriteError as error:
        if cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]:
            return False
        raise
    return True


def activity_of(artist_id: str, limit: int, before: str | None) -> tuple[list[ActivityEvent], str | None]:
    return _newest_first(ActivityItem, artist_id, limit, before, _to_activity)


def _newest_first[E](
    item_class: Any, key: str, limit: int, before: str | None, to_entity: Callable[[Any], E]
) -> tuple[list[E], str | None]:
    """One page of a (key, id) table newest first, and the id to continue before (None on the last page)."""
    ready()
    condition = item_class.id < before if before else None
    with translated_errors():
        found = list(
            item_class.query(key, range_key_condition=condition, scan_index_forward=False, limit=limit + 1)
        )
    page = found[:limit]
    return [to_entity(item) for item in page], page[-1].id if len(found) > limit and page else None
