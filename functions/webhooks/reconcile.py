"""Scheduled: re-process the events Stripe reports as undelivered over the last days (the platform's and
each connected account's), through the very code path the webhooks use. Processed events are skipped by
their id; an event that fails again fails this run, so the alarm on errors sees it."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.clock import utcnow
from casset.services.stripe_events import reconcile

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    receipts = reconcile(utcnow())
    counts: dict[str, int] = {}
    for receipt in receipts:
        counts[receipt.status] = counts.get(receipt.status, 0) + 1
    for status, count in counts.items():
        metrics.add_metric(name=f"Reconciled{status.title()}", unit=MetricUnit.Count, value=count)
    logger.info("reconciled stripe events", extra={"counts": counts})
    return {"events": len(receipts), "counts": counts}
