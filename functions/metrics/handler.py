"""SQS → fold a batch of visual events into one counter write per visual, and forward each event to the
analytics bus (casset.services.metrics.settle).

Not Powertools' BatchProcessor: it hands records to a handler one at a time, which would mean one write
per event on a hot visual, the very thing this function exists to avoid. The partial-failure answer is
the same: only the messages of events that must come back (a write that kept conflicting, an entry the
bus refused, a body that does not parse) are reported, and the markers make their redelivery harmless."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import SQSEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from casset.data.metrics import parse_message
from casset.metric_rules import VisualEvent
from casset.services.metrics import settle

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    failed_messages: list[str] = []
    events: list[VisualEvent] = []
    messages_of: dict[str, list[str]] = {}  # event id -> message ids (SQS may deliver one twice)
    for record in SQSEvent(event).records:
        try:
            visual_event = parse_message(record.body)
        except ValidationError:
            logger.exception("unreadable metrics message", extra={"message_id": record.message_id})
            failed_messages.append(record.message_id)
            continue
        events.append(visual_event)
        messages_of.setdefault(visual_event.event_id, []).append(record.message_id)

    settled = settle(events)
    for event_id in settled.failed:
        failed_messages += messages_of.get(event_id, [])
    logger.info(
        "batch settled",
        extra={
            "records": len(events),
            "counted": settled.counted,
            "already_counted": settled.already_counted,
            "writes": settled.writes,
            "failed": len(failed_messages),
        },
    )
    for name, value in (
        ("MetricEventsCounted", settled.counted),
        ("MetricEventsAlreadyCounted", settled.already_counted),
        ("MetricEventsVisualGone", settled.visual_gone),
        ("MetricEventsStale", settled.stale),
        ("MetricCounterWrites", settled.writes),
        ("MetricEventsForwarded", settled.forwarded),
        ("MetricEventsRetried", len(failed_messages)),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed_messages]}
