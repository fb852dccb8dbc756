"""What rendering may cost: a render is charged in the same write that starts it (a new export, or a failed
one asked for again), so a request that finds the render already started, or loses the race to start it,
costs nothing, and neither does a cache hit. A ceiling on renders in flight protects the platform; a budget
per user over any hour (casset.data.rate_limits), separate from the general write limit, keeps one account
from spending it all."""

import math
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from aws_lambda_powertools import Logger

from casset.clock import utcnow
from casset.data import exports as exports_data
from casset.data import rate_limits
from casset.errors import RateLimited, RenderQueueFull
from casset.settings import get_settings

BUDGET_WINDOW_SEC = 3600
RENDER_BUDGET_EXCEEDED = "RENDER_BUDGET_EXCEEDED"
# How long a full queue is asked to wait: about one render.
QUEUE_FULL_RETRY_SEC = 30

logger = Logger(child=True)


@contextmanager
def charge(user_id: str) -> Iterator[rate_limits.Quote]:
    """The charge for one render, to join the write that starts it (casset.data.exports), or a refusal:
    503 while the platform's renders in flight are at the ceiling, 429 once the user started their
    budget's worth in the last hour. Nothing is spent unless that write succeeds."""
    settings = get_settings()
    since = utcnow() - timedelta(seconds=settings.export_in_flight_horizon_sec)
    if exports_data.count_in_flight(since, settings.export_max_in_flight) >= settings.export_max_in_flight:
        raise RenderQueueFull(
            "Too many hook videos are rendering right now; try again in a moment.",
            retry_after_sec=QUEUE_FULL_RETRY_SEC,
        )
    limit = settings.export_renders_per_hour
    try:
        yield rate_limits.quote(rate_limits.Budget(f"renders#{user_id}", limit, BUDGET_WINDOW_SEC))
    except rate_limits.BudgetSpent as spent:
        raise RateLimited(
            f"You have started {limit} new hook video renders in the last hour; exports already rendered "
            "stay free to fetch. Try again later.",
            retry_after_sec=max(1, math.ceil(spent.wait_sec)),
            code=RENDER_BUDGET_EXCEEDED,
        ) from spent


def refund(charged: rate_limits.Quote) -> None:
    """A render that was charged but could not be queued after all costs nothing. A refund runs while
    its caller answers the failure that called for it: a refund that fails is logged, never raised in that
    answer's place (it costs the user one render of their hour's budget, until the hour slides past)."""
    try:
        rate_limits.give_back(charged)
    except Exception:
        logger.exception("Render refund failed", extra={"budget_key": charged.key})
