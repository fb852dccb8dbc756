"""Sliding-window budgets: at most `limit` hits of a subject in any `window_sec`.

Two fixed-window counters estimate the sliding window: the current one, plus the previous one weighted by
how much of it the sliding window still covers (the sliding-window counter of Cloudflare's and nginx's
limiters), so a burst at the end of one window and another at the start of the next cannot spend the
budget twice. A hit is counted only when it fits, by a conditional ADD: concurrent hits cannot overshoot,
and a refused hit costs nothing more. A charge can join another write's transaction (a render is charged
in the same write that queues it). Spent counters expire through TTL once no window reads them."""

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import sleep

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from casset.data._dynamo import fetch, is_conflict, ready, translated_errors
from casset.data.tables import RateLimitItem
from casset.errors import Unavailable

# A counter outlives its window by one more (it is the next window's previous one) and this margin.
_EXPIRY_MARGIN = timedelta(minutes=5)
# A refund meets a transaction charging the same counter (another render starting) with a
# TransactionConflict; that transaction takes milliseconds.
_REFUND_ATTEMPTS = 4


@dataclass(frozen=True)
class Budget:
    subject: str
    limit: int
    window_sec: int


@dataclass(frozen=True)
class Quote:
    """One more hit of a budget, as read at `now`: the current counter takes it while it holds fewer than
    `room` hits; `wait_sec` is how long a caller refused now waits (None while there is room)."""

    budget: Budget
    key: str
    expires_at: datetime
    room: int
    wait_sec: float | None
    full_wait_sec: float  # the wait should the current counter turn out full (a concurrent hit won)


class BudgetSpent(Exception):
    """A charge joined to a transaction found no room: nothing of the transaction was written."""

    def __init__(self, wait_sec: float) -> None:
        super().__init__(f"budget spent; wait {wait_sec:.0f} s")
        self.wait_sec = wait_sec


def room_in_window(limit: int, previous_hits: int, elapsed_sec: float, window_sec: int) -> int:
    """How many hits the current counter may hold so that the sliding estimate stays within the limit."""
    covered = 1 - elapsed_sec / window_sec
    # Rounded first: float noise must not turn an exact 1.0 into 0.999... and refuse a hit that fits.
    return max(0, math.floor(round(limit - previous_hits * covered, 9)))


def wait_for_room(
    limit: int, previous_hits: int, current_hits: int, elapsed_sec: float, window_sec: int
) -> float:
    """Seconds until one more hit fits, if no other hit is counted meanwhile: later in this window, as the
    previous counter's weight decays, or else in the next, where the current counter becomes the previous."""
    spare = limit - current_hits - 1
    if spare >= 0:
        fits_at = window_sec * (1 - spare / previous_hits) if previous_hits else 0.0
        wait = max(0.0, fits_at - elapsed_sec)
    else:
        wait = window_sec - elapsed_sec + window_sec * (1 - (limit - 1) / max(current_hits, 1))
    # Up to the millisecond: a wait rounded down is a Retry-After that can end a second short of room.
    # Rounded to the nanosecond first: float noise must not add a second to one either.
    return math.ceil(round(wait * 1000, 6)) / 1000


def quote(budget: Budget) -> Quote:
    """Read the previous window's counter and price one more hit now."""
    now = time.time()
    window_start = math.floor(now / budget.window_sec) * budget.window_sec
    elapsed = now - window_start
    # Strongly consistent: an eventually consistent read can miss the previous window's last hits.
    previous = fetch(
        RateLimitItem, _key(budget.subject, window_start - budget.window_sec), consistent_read=True
    )
    previous_hits = int(previous.hits) if previous else 0
    room = room_in_window(budget.limit, previous_hits, elapsed, budget.window_sec)
    full_wait = wait_for_room(budget.limit, previous_hits, room, elapsed, budget.window_sec)
    return Quote(
        budget=budget,
        key=_key(budget.subject, window_start),
        expires_at=datetime.fromtimestamp(window_start + 2 * budget.window_sec, UTC) + _EXPIRY_MARGIN,
        room=room,
        wait_sec=full_wait if room == 0 else None,
        full_wait_sec=full_wait,
    )


def take(budget: Budget) -> float | None:
    """Count one hit if it fits: None when counted, else the seconds to wait before one would."""
    priced = quote(budget)
    if priced.wait_sec is not None:
        return priced.wait_sec
    ready()
    with translated_errors():
        try:
            RateLimitItem(key=priced.key).update(actions=_count(priced), condition=_has_room(priced))
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return priced.full_wait_sec
            raise
    return None


def charge_in(writer: TransactWrite, priced: Quote) -> None:
    """Add the hit to a transaction, conditioned on room: the transaction fails where there is none (its
    caller raises BudgetSpent)."""
    if priced.wait_sec is not None:
        raise BudgetSpent(priced.wait_sec)
    writer.update(RateLimitItem(key=priced.key), actions=_count(priced), condition=_has_room(priced))


def give_back(priced: Quote) -> None:
    """Uncount a hit that was charged for something that did not happen after all. Run again while it
    meets a transaction on the counter; Unavailable if it keeps meeting them."""
    ready()
    for attempt in range(_REFUND_ATTEMPTS):
        with translated_errors():
            try:
                RateLimitItem(key=priced.key).update(
                    actions=[RateLimitItem.hits.add(-1)], condition=RateLimitItem.hits > 0
                )
                return
            except UpdateError as error:
                if error.cause_response_code == "ConditionalCheckFailedException":
                    return
                if not is_conflict(error):
                    raise
        sleep(random.uniform(0, 0.02 * (attempt + 1)))  # jittered, as exports' conflict retries
    raise Unavailable("The budget's counter is busy; the hit was not given back.")


def _count(priced: Quote) -> list[Action]:
    return [RateLimitItem.hits.add(1), RateLimitItem.expires_at.set(priced.expires_at)]


def _has_room(priced: Quote) -> Condition:
    return RateLimitItem.hits.does_not_exist() | (RateLimitItem.hits < priced.room)


def _key(subject: str, window_start: int) -> str:
    return f"{subject}#{window_start}"
