"""Fixed-window request counters: one atomic ADD per request, spent windows expire through TTL."""

import math
import time
from datetime import UTC, datetime, timedelta

from casset.data._dynamo import ready, translated_errors
from casset.data.tables import RateLimitItem


def hit(subject: str, window_sec: int) -> tuple[int, float]:
    """Count one request for subject in the current window; returns (hits so far, seconds until reset)."""
    ready()
    now = time.time()
    window_start = math.floor(now / window_sec) * window_sec
    item = RateLimitItem(key=f"{subject}#{window_start}")
    expires = datetime.fromtimestamp(window_start + window_sec, UTC) + timedelta(minutes=5)
    with translated_errors():
        item.update(actions=[RateLimitItem.hits.add(1), RateLimitItem.expires_at.set(expires)])
    return int(item.hits), window_start + window_sec - now
