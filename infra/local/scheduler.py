"""The template's scheduled rules (rate expressions) on the local stack: each scheduled function is
invoked in this process with an EventBridge "Scheduled Event", every rate, first one rate after start
(as a new rule fires). moto stores rules but fires none."""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from infra.local.blueprint import ACCOUNT_ID, REGION, Blueprint
from infra.local.functions import invoke

logger = logging.getLogger("casset.local")


def scheduled_event(function: str) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/casset-local-{function}"],
        "detail": {},
    }


def start(plan: Blueprint) -> Callable[[], None]:
    """Run every schedule on a daemon thread; returns a function that stops it."""
    stop = threading.Event()
    due = {schedule.function: time.monotonic() + schedule.rate_sec for schedule in plan.schedules}
    rates = {schedule.function: schedule.rate_sec for schedule in plan.schedules}

    def loop() -> None:
        while due and not stop.wait(max(0.0, min(due.values()) - time.monotonic())):
            now = time.monotonic()
            for function, at in list(due.items()):
                if at > now:
                    continue
                due[function] = at + rates[function]
                try:
                    invoke(plan.functions[function], scheduled_event(function))
                except Exception:
                    logger.exception("scheduled %s failed", function)

    thread = threading.Thread(target=loop, name="schedules", daemon=True)
    thread.start()

    def stop_schedules() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_schedules
