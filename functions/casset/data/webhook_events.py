"""The Stripe event log: one item per event id, counting every delivery of it.

Claiming an event is one conditional write: a new event, a failed one, or one whose previous attempt's
lease ran out can be claimed; a processed one is a duplicate; one under a live lease is in flight (a
concurrent duplicate delivery), which is told to come back later rather than be counted done, so a crash
of the first attempt cannot lose the event. A rejected one (signed, but not a shape we read) stays
rejected: every redelivery gets the same answer and nothing is processed."""

from datetime import timedelta
from enum import StrEnum
from typing import Any

from casset.clock import utcnow
from casset.data._dynamo import fetch, ready, translated_errors, update_if
from casset.data.tables import WebhookEventItem
from casset.entities import WebhookEventStatus

RETENTION = timedelta(days=30)  # Stripe stops retrying after 3 days; dedupe a good while longer


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    DUPLICATE = "DUPLICATE"
    IN_FLIGHT = "IN_FLIGHT"
    REJECTED = "REJECTED"


def claim(
    event_id: str,
    *,
    endpoint: str,
    event_type: str,
    livemode: bool,
    account: str | None,
    payload: str,
    lease: timedelta,
    reclaimable: tuple[str, ...] = (),
) -> Claim:
    """`reclaimable`: the outcomes of an IGNORED event that a later delivery may claim again (it was
    ignored for how it arrived, not for what it is)."""
    ready()
    now = utcnow()
    first_seen: list[tuple[Any, object]] = [
        (WebhookEventItem.type, event_type),
        (WebhookEventItem.livemode, livemode),
        (WebhookEventItem.received_at, now),
        (WebhookEventItem.expires_at, now + RETENTION),
    ]
    actions = [attribute.set(attribute | value) for attribute, value in first_seen]
    # As the claiming delivery has it: a reclaimed misrouted event is recorded as properly delivered.
    actions += [WebhookEventItem.endpoint.set(endpoint), WebhookEventItem.payload.set(payload)]
    if account:
        actions.append(WebhookEventItem.account.set(account))
    actions += [
        WebhookEventItem.deliveries.add(1),
        WebhookEventItem.status.set(WebhookEventStatus.PROCESSING.value),
        WebhookEventItem.lease_until.set(now + lease),
    ]
    claimable = (
        WebhookEventItem.id.does_not_exist()
        | (WebhookEventItem.status == WebhookEventStatus.FAILED.value)
        | (
            (WebhookEventItem.status == WebhookEventStatus.PROCESSING.value)
            & (WebhookEventItem.lease_until < now)
        )
    )
    if reclaimable:
        claimable = claimable | (
            (WebhookEventItem.status == WebhookEventStatus.IGNORED.value)
            & WebhookEventItem.outcome.is_in(*reclaimable)
        )
    if update_if(WebhookEventItem(id=event_id), actions, claimable):
        return Claim.CLAIMED
    # Not ours to process; still a delivery worth counting.
    item = WebhookEventItem(id=event_id)
    with translated_errors():
        item.update(actions=[WebhookEventItem.deliveries.add(1)])
    if item.status == WebhookEventStatus.PROCESSING.value:
        return Claim.IN_FLIGHT
    if item.status == WebhookEventStatus.REJECTED.value:
        return Claim.REJECTED
    return Claim.DUPLICATE


def reject(event_id: str, *, endpoint: str, event_type: str, payload: str, reason: str, error: str) -> None:
    """Record a delivery that cannot be processed as REJECTED with why, counting it; an event already
    processed under this id keeps its record."""
    ready()
    now = utcnow()
    first_seen: list[tuple[Any, object]] = [
        (WebhookEventItem.endpoint, endpoint),
        (WebhookEventItem.type, event_type),
        (WebhookEventItem.livemode, False),
        (WebhookEventItem.payload, payload),
        (WebhookEventItem.received_at, now),
        (WebhookEventItem.expires_at, now + RETENTION),
    ]
    actions = [attribute.set(attribute | value) for attribute, value in first_seen]
    actions += [
        WebhookEventItem.deliveries.add(1),
        WebhookEventItem.status.set(WebhookEventStatus.REJECTED.value),
        WebhookEventItem.outcome.set(reason),
        WebhookEventItem.error.set(error[:1000]),
        WebhookEventItem.processed_at.set(now),
    ]
    rejectable = WebhookEventItem.id.does_not_exist() | WebhookEventItem.status.is_in(
        WebhookEventStatus.REJECTED.value, WebhookEventStatus.FAILED.value
    )
    if not update_if(WebhookEventItem(id=event_id), actions, rejectable):
        with translated_errors():
            WebhookEventItem(id=event_id).update(actions=[WebhookEventItem.deliveries.add(1)])


def finish(event_id: str, status: WebhookEventStatus, outcome: str, error: str | None = None) -> None:
    ready()
    with translated_errors():
        WebhookEventItem(id=event_id).update(
            actions=[
                WebhookEventItem.status.set(status.value),
                WebhookEventItem.outcome.set(outcome),
                WebhookEventItem.processed_at.set(utcnow()),
                WebhookEventItem.lease_until.remove(),
                WebhookEventItem.error.set(error[:1000]) if error else WebhookEventItem.error.remove(),
            ]
        )


def fail(event_id: str, error: str) -> None:
    ready()
    with translated_errors():
        WebhookEventItem(id=event_id).update(
            actions=[
                WebhookEventItem.status.set(WebhookEventStatus.FAILED.value),
                WebhookEventItem.error.set(error[:1000]),
                WebhookEventItem.lease_until.remove(),
            ]
        )


def status_of(event_id: str) -> tuple[WebhookEventStatus, int, str | None] | None:
    """(status, deliveries, outcome) of a recorded event, or None."""
    item = fetch(WebhookEventItem, event_id, consistent_read=True)
    if item is None:
        return None
    return WebhookEventStatus(item.status), int(item.deliveries), item.outcome


def rejection_of(event_id: str) -> tuple[str, str]:
    """(reason, error) recorded for a rejected event."""
    item = fetch(WebhookEventItem, event_id, consistent_read=True)
    return (item.outcome or "", item.error or "") if item else ("", "")
