"""What rendering may cost: renders are charged when one is about to start (a new export, or a failed one
asked for again), never for a cache hit. A ceiling on renders in flight protects the platform; an hourly
budget per user, separate from the general write limit, keeps one account from spending it all."""

import math
from datetime import timedelta

from casset.clock import utcnow
from casset.data import exports as exports_data
from casset.data import rate_limits
from casset.errors import RateLimited, RenderQueueFull
from casset.settings import get_settings

BUDGET_WINDOW_SEC = 3600
RENDER_BUDGET_EXCEEDED = "RENDER_BUDGET_EXCEEDED"
# How long a full queue is asked to wait: about one render.
QUEUE_FULL_RETRY_SEC = 30


def charge(user_id: str) -> None:
    """Let one more render start for this user, or refuse: 503 while the platform's renders in flight
    are at the ceiling (nothing spent), 429 once the user started their hourly budget's worth."""
    settings = get_settings()
    since = utcnow() - timedelta(seconds=settings.export_in_flight_horizon_sec)
    if exports_data.count_in_flight(since, settings.export_max_in_flight) >= settings.export_max_in_flight:
        raise RenderQueueFull(
            "Too many hook videos are rendering right now; try again in a moment.",
            retry_after_sec=QUEUE_FULL_RETRY_SEC,
        )
    limit = settings.export_renders_per_hour
    started, reset_in = rate_limits.hit(f"renders#{user_id}", BUDGET_WINDOW_SEC)
    if started > limit:
        raise RateLimited(
            f"You have started {limit} new hook video renders this hour; exports already rendered stay "
            "free to fetch. Try again later.",
            retry_after_sec=max(1, math.ceil(reset_in)),
            code=RENDER_BUDGET_EXCEEDED,
        )
