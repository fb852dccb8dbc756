"""Visual metrics as pure rules: the event types, who the viewer is, and how a batch of events folds into
counter writes. No AWS here; the API and the aggregator use these through services/metrics.py.

Why aggregate instead of sharding the counter: sharding spreads one visual's writes over N items but
still costs one write per event and N reads per display. Folding each SQS batch into one ADD per visual
turns a hot visual's thousands of events into one write per batch on its item, keeps the counter a
single attribute the artist reads directly, and the per-event markers that make it exact are keyed by
event id, so they spread over every partition."""

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# A transaction holds at most 100 items: one counter update plus one marker per event.
MAX_EVENTS_PER_WRITE = 99


class VisualEventType(StrEnum):
    IMPRESSION = "impression"  # a fan saw the visual
    PAIRING = "pairing"  # an artist picked it for a track
    EXPORT = "export"  # a video was exported with it
    SHARE = "share"  # a share carried it


# The VisualItem counter each type adds to.
COUNTER_OF: dict[VisualEventType, str] = {
    VisualEventType.IMPRESSION: "impressions",
    VisualEventType.PAIRING: "pairings",
    VisualEventType.EXPORT: "exports",
    VisualEventType.SHARE: "shares",
}


class VisualEvent(BaseModel):
    """One accepted event, as it travels on the metrics queue and reaches the analytics bus."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, alias_generator=to_camel)

    event_id: str
    visual_id: str
    track_id: str
    type: VisualEventType
    viewer: str
    # False for an impression the same viewer already made within the window: analytics sees it, the
    # counter does not.
    counted: bool
    occurred_at: datetime

    def wire(self) -> str:
        return self.model_dump_json(by_alias=True)


def viewer_of(user_id: str | None, source_ip: str, user_agent: str, salt: str) -> str:
    """A signed-in viewer is their user id; anyone else a keyed hash of address and browser, so no
    address is stored and, once the salt is gone, none can be recovered."""
    if user_id:
        return f"user:{user_id}"
    digest = hmac.new(salt.encode(), f"{source_ip}\n{user_agent}".encode(), hashlib.sha256)
    return f"anon:{digest.hexdigest()[:32]}"


def salt_day(now: datetime) -> str:
    """Anonymous viewer hashes use one salt per UTC day (Plausible's approach): unlinkable across days."""
    return now.date().isoformat()


def impression_key(visual_id: str, viewer: str) -> str:
    return f"impression#{visual_id}#{viewer}"


def marker_key(event_id: str) -> str:
    return f"event#{event_id}"


def salt_key(day: str) -> str:
    return f"salt#{day}"


def rate_limit_subject(viewer: str, visual_id: str) -> str:
    return f"visual-events#{viewer}#{visual_id}"


def too_old(event: VisualEvent, now: datetime, max_age: timedelta) -> bool:
    """An event older than its marker could be redelivered after the marker expired; it is dropped, so
    no event is ever counted twice."""
    return now - event.occurred_at > max_age


@dataclass(frozen=True)
class CounterWrite:
    """One atomic write: these events' increments to one visual's counters, with one marker each."""

    visual_id: str
    events: tuple[VisualEvent, ...]

    @property
    def increments(self) -> dict[str, int]:
        return tally(self.events)

    @property
    def event_ids(self) -> tuple[str, ...]:
        return tuple(event.event_id for event in self.events)

    def without(self, event_ids: Iterable[str]) -> "CounterWrite":
        dropped = set(event_ids)
        return CounterWrite(self.visual_id, tuple(e for e in self.events if e.event_id not in dropped))


def tally(events: Iterable[VisualEvent]) -> dict[str, int]:
    """Counter name -> how much to add, for the events that count."""
    totals: dict[str, int] = {}
    for event in events:
        if event.counted:
            counter = COUNTER_OF[event.type]
            totals[counter] = totals.get(counter, 0) + 1
    return totals


def plan_writes(events: Iterable[VisualEvent], max_events: int = MAX_EVENTS_PER_WRITE) -> list[CounterWrite]:
    """Group a batch by visual, keep each event id once (SQS may deliver a message twice, and one
    transaction cannot touch the same marker twice), leave out events that do not count, and cut each
    visual's events into writes of at most max_events."""
    by_visual: dict[str, dict[str, VisualEvent]] = {}
    for event in events:
        if event.counted:
            by_visual.setdefault(event.visual_id, {}).setdefault(event.event_id, event)
    writes = []
    for visual_id, unique in by_visual.items():
        ordered = list(unique.values())
        for start in range(0, len(ordered), max_events):
            writes.append(CounterWrite(visual_id, tuple(ordered[start : start + max_events])))
    return writes
