"""Scheduled: re-process the events Stripe reports as undelivered over the last days (the platform's and
each connected account's), through the very code path the webhooks use. Processed events are skipped by
their id. An event that fails does not stop the sweep: every other event is still processed, each
failure is logged and counted (metric ReconcileFailures), and the run then fails, so the alarm on the
function's errors sees it and the next run retries what failed."""

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.clock import utcnow
from casset.services.stripe_events import DISPUTE_STATUS_UNKNOWN, reconcile

logger = Logger()
tracer = Tracer()
metrics = Metrics()


class ReconcileFailed(Exception):
    """Some undelivered events (or accounts' listings) failed again; the rest were processed."""


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = reconcile(utcnow())
    counts: dict[str, int] = {}
    for receipt in result.receipts:
        counts[receipt.status] = counts.get(receipt.status, 0) + 1
    for status, count in counts.items():
        metrics.add_metric(name=f"Reconciled{status.title()}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="ReconcileFailures", unit=MetricUnit.Count, value=len(result.failures))
    unknown = sum(receipt.outcome == DISPUTE_STATUS_UNKNOWN for receipt in result.receipts)
    if unknown:
        metrics.add_metric(name="StripeDisputeStatusUnknown", unit=MetricUnit.Count, value=unknown)
    failed = [{"id": source, "error": error} for source, error in result.failures]
    logger.info("reconciled stripe events", extra={"counts": counts, "failures": failed})
    if failed:
        raise ReconcileFailed(
            f"{len(failed)} of {len(failed) + len(result.receipts)} failed: "
            + ", ".join(source for source, _ in result.failures)
        )
    return {"events": len(result.receipts), "counts": counts, "failures": 0}
