"""Visual metrics: accepting an event (the API) and settling a batch of them (the aggregator).

Accepting costs a rate-limit counter, for impressions one conditional put, and one SQS message; the
visual's item is never written on the request path. Settling folds a batch into one transaction per
visual (plan_writes) and forwards every event to the analytics bus."""

import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from casset.clock import utcnow
from casset.data import metrics as metrics_data
from casset.data import rate_limits
from casset.data.metrics import WriteOutcome
from casset.errors import RateLimited, Unavailable
from casset.flags import Feature, require_for
from casset.ids import new_id
from casset.metric_rules import (
    CounterWrite,
    VisualEvent,
    VisualEventType,
    plan_writes,
    rate_limit_subject,
    salt_day,
    too_old,
    viewer_of,
)
from casset.rules import Caller
from casset.services import visuals
from casset.settings import get_settings

logger = Logger(child=True)

RATE_WINDOW_SEC = 60
MAX_WRITE_ATTEMPTS = 4
_BACKOFF_SEC = 0.02
# Markers outlive the oldest event the aggregator still counts by this much (clock skew between
# functions), so a redelivered event always finds its marker.
_MARKER_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class Accepted:
    event_id: str
    counted: bool


def record_event(
    caller: Caller, visual_id: str, event_type: VisualEventType, source_ip: str, user_agent: str
) -> Accepted:
    """Validate, rate-limit and queue one event. A repeated impression within the window is still
    accepted (and reaches analytics) but does not count."""
    settings = get_settings()
    if event_type is VisualEventType.PAIRING:
        # Pairings rank suggestions: only a signed-in caller's count, never an anonymous (forgeable) viewer's.
        caller.require_user()
    # Events count only on visuals everyone may see (READY), whoever fires them.
    visual, track = visuals.get_visual_and_track(Caller(), visual_id)
    require_for(Feature.VISUAL_PAIRING_V2, caller, track.artist_id)
    now = utcnow()
    salt = "" if caller.user_id else metrics_data.viewer_salt(salt_day(now))
    viewer = viewer_of(caller.user_id, source_ip, user_agent, salt)

    wait_sec = rate_limits.take(
        rate_limits.Budget(
            rate_limit_subject(viewer, visual.id), settings.visual_events_per_minute, RATE_WINDOW_SEC
        )
    )
    if wait_sec is not None:
        raise RateLimited(
            f"Too many events for this visual: {settings.visual_events_per_minute} a minute.",
            retry_after_sec=max(1, math.ceil(wait_sec)),
        )

    claim = None
    if event_type is VisualEventType.IMPRESSION:
        window = timedelta(seconds=settings.impression_window_sec)
        claim = metrics_data.claim_impression(visual.id, viewer, window)
    event = VisualEvent(
        event_id=new_id(),
        visual_id=visual.id,
        track_id=visual.track_id,
        type=event_type,
        viewer=viewer,
        counted=event_type is not VisualEventType.IMPRESSION or claim is not None,
        occurred_at=now,
    )
    try:
        metrics_data.enqueue(event)
    except Unavailable:
        if claim is not None:
            metrics_data.release_impression(visual.id, viewer, claim)
        raise
    return Accepted(event.event_id, event.counted)


@dataclass
class Settled:
    """What one batch did. `failed` event ids go back to the queue; everything else is done."""

    failed: set[str] = field(default_factory=set)
    counted: int = 0  # events added to counters now
    already_counted: int = 0  # redeliveries whose markers existed
    visual_gone: int = 0
    stale: int = 0
    writes: int = 0  # committed counter transactions
    forwarded: int = 0


def settle(events: list[VisualEvent]) -> Settled:
    """Count the batch's events exactly once each, then forward them to analytics (at least once)."""
    now = utcnow()
    max_age = timedelta(days=get_settings().metric_event_max_age_days)
    settled = Settled()
    fresh = []
    for event in events:
        if too_old(event, now, max_age):
            settled.stale += 1
            logger.warning("event too old to count exactly; dropped", extra={"event_id": event.event_id})
        else:
            fresh.append(event)
    for write in plan_writes(fresh):
        _write(write, now + max_age + _MARKER_MARGIN, settled)

    # Forwarded whatever happened to the counters, once per event id, except what comes back for another
    # try (analytics is at least once: consumers dedupe on eventId).
    unique = {event.event_id: event for event in events}
    forward = [event for event_id, event in unique.items() if event_id not in settled.failed]
    refused = metrics_data.publish(forward)
    settled.forwarded = len(forward) - len(refused)
    settled.failed |= refused
    return settled


def _write(write: CounterWrite, marker_expires: datetime, settled: Settled) -> None:
    attempts = 0
    while write.events:
        result = metrics_data.add_to_counters(write, marker_expires)
        if result.outcome is WriteOutcome.APPLIED:
            settled.counted += len(write.events)
            settled.writes += 1
            return
        if result.outcome is WriteOutcome.VISUAL_GONE:
            settled.visual_gone += len(write.events)
            return
        if result.outcome is WriteOutcome.ALREADY_COUNTED:
            settled.already_counted += len(result.already_counted)
            write = write.without(result.already_counted)
            continue
        attempts += 1
        if attempts >= MAX_WRITE_ATTEMPTS:
            logger.warning(
                "counter write kept conflicting; back to the queue", extra={"visual_id": write.visual_id}
            )
            settled.failed.update(write.event_ids)
            return
        # Jittered, so concurrent batches on one hot visual do not collide again in lockstep.
        time.sleep(random.uniform(0, _BACKOFF_SEC * 2**attempts))
