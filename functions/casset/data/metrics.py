"""Visual metrics in AWS: impression claims, the daily viewer salt and counted-event markers in the
MetricEvents table, the metrics queue (SQS) and the analytics bus (EventBridge).

A counter write is one transaction: ADD to the visual's counters (only if the visual still exists) and
put one marker per event (only if that event id was never counted). A redelivered event finds its marker
and cancels the transaction; the caller drops it and writes the rest, so every event counts once."""

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from pynamodb.exceptions import DeleteError, TransactWriteError

from casset.clock import utcnow
from casset.data._dynamo import cancellation_codes, fetch, put_if, ready, transaction, translated_errors
from casset.data.tables import MetricEventItem, VisualItem
from casset.errors import Unavailable
from casset.metric_rules import CounterWrite, VisualEvent, impression_key, marker_key, salt_key
from casset.settings import get_settings

logger = Logger(child=True)

EVENT_SOURCE = "casset.visuals"
EVENT_DETAIL_TYPE = "VisualEvent"
PUT_EVENTS_MAX = 10  # entries per PutEvents call
_CONDITION_FAILED = "ConditionalCheckFailed"
_RETRYABLE = {
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
}
_SALT_LIFETIME = timedelta(days=2)  # the day it is used, then one more before TTL removes it
_salts: dict[str, str] = {}  # day -> salt, for this container's life


@lru_cache(maxsize=1)
def _sqs() -> Any:
    return boto3.client("sqs")


@lru_cache(maxsize=1)
def _events() -> Any:
    return boto3.client("events")


def viewer_salt(day: str) -> str:
    """The salt of one UTC day, made by whichever request needs it first (a conditional put)."""
    if day in _salts:
        return _salts[day]
    item = fetch(MetricEventItem, salt_key(day), consistent_read=True)
    if item is None or not item.value:
        candidate = MetricEventItem(
            key=salt_key(day), value=secrets.token_hex(32), expires_at=utcnow() + _SALT_LIFETIME
        )
        if put_if(candidate, MetricEventItem.key.does_not_exist()):
            item = candidate
        else:
            item = fetch(MetricEventItem, salt_key(day), consistent_read=True)
    if item is None or not item.value:
        raise Unavailable("The viewer salt could not be read; retry shortly.")
    _salts.clear()  # only today's is ever needed again
    _salts[day] = item.value
    return item.value


def claim_impression(visual_id: str, viewer: str, window: timedelta) -> datetime | None:
    """Claim this viewer's impression of the visual for the next window, unless a claim is still live.
    Returns the claim's expiry, or None when the viewer already has one (TTL deletes lazily, so the
    condition looks at the expiry itself)."""
    now = utcnow()
    expires = now + window
    claim = MetricEventItem(key=impression_key(visual_id, viewer), expires_at=expires)
    live = MetricEventItem.key.does_not_exist() | (MetricEventItem.expires_at < now)
    return expires if put_if(claim, live) else None


def release_impression(visual_id: str, viewer: str, expires: datetime) -> None:
    """Undo a claim whose event never reached the queue, so the viewer's retry can count."""
    ready()
    with translated_errors():
        try:
            MetricEventItem(key=impression_key(visual_id, viewer)).delete(
                condition=MetricEventItem.expires_at == expires
            )
        except DeleteError as error:
            if error.cause_response_code != f"{_CONDITION_FAILED}Exception":
                raise


def enqueue(event: VisualEvent) -> None:
    try:
        _sqs().send_message(QueueUrl=get_settings().metrics_queue_url, MessageBody=event.wire())
    except ClientError as error:
        raise Unavailable("The metrics queue is busy; retry shortly.") from error


def parse_message(body: str) -> VisualEvent:
    return VisualEvent.model_validate_json(body)


class WriteOutcome(StrEnum):
    APPLIED = "APPLIED"
    VISUAL_GONE = "VISUAL_GONE"  # the visual was deleted: its events have nothing to count on
    ALREADY_COUNTED = "ALREADY_COUNTED"  # some events carry markers already: drop them and write again
    RETRY = "RETRY"  # a concurrent transaction or throttling: nothing written, try again later


@dataclass(frozen=True)
class WriteResult:
    outcome: WriteOutcome
    already_counted: frozenset[str] = field(default_factory=frozenset)


def add_to_counters(write: CounterWrite, marker_expires: datetime) -> WriteResult:
    """One transaction: the counters' ADD (if the visual exists) and one marker per event (if new)."""
    increments = write.increments
    if not increments:
        return WriteResult(WriteOutcome.APPLIED)
    try:
        with translated_errors(), transaction() as writer:
            writer.update(
                VisualItem(id=write.visual_id),
                actions=[getattr(VisualItem, counter).add(n) for counter, n in increments.items()],
                condition=VisualItem.id.exists(),
            )
            for event_id in write.event_ids:
                writer.save(
                    MetricEventItem(key=marker_key(event_id), expires_at=marker_expires),
                    condition=MetricEventItem.key.does_not_exist(),
                )
    except TransactWriteError as error:
        # PynamoDB sends puts before updates: the markers, then the counters.
        codes = cancellation_codes(error)
        marker_codes, counter_code = codes[: len(write.event_ids)], codes[len(write.event_ids) :]
        if counter_code == [_CONDITION_FAILED]:
            return WriteResult(WriteOutcome.VISUAL_GONE)
        counted = frozenset(
            event_id
            for event_id, code in zip(write.event_ids, marker_codes, strict=False)
            if code == _CONDITION_FAILED
        )
        if counted:
            return WriteResult(WriteOutcome.ALREADY_COUNTED, counted)
        if _RETRYABLE & set(codes):
            return WriteResult(WriteOutcome.RETRY)
        raise
    except Unavailable:
        return WriteResult(WriteOutcome.RETRY)
    return WriteResult(WriteOutcome.APPLIED)


def publish(events: Sequence[VisualEvent]) -> set[str]:
    """Forward events to the analytics bus, ten per call; returns the ids EventBridge did not take."""
    bus = get_settings().metrics_event_bus
    failed: set[str] = set()
    for start in range(0, len(events), PUT_EVENTS_MAX):
        chunk = events[start : start + PUT_EVENTS_MAX]
        entries = [
            {
                "EventBusName": bus,
                "Source": EVENT_SOURCE,
                "DetailType": EVENT_DETAIL_TYPE,
                "Time": event.occurred_at,
                "Detail": json.dumps(event.model_dump(mode="json", by_alias=True)),
            }
            for event in chunk
        ]
        try:
            answer = _events().put_events(Entries=entries)
        except ClientError:
            logger.exception("PutEvents failed", extra={"events": len(chunk)})
            failed.update(event.event_id for event in chunk)
            continue
        for event, entry in zip(chunk, answer["Entries"], strict=True):
            if entry.get("ErrorCode"):
                failed.add(event.event_id)
    return failed
