"""SQS (the render dead-letter queue) → end each export whose message exhausted its deliveries as FAILED,
so whoever polls GET /api/exports/{id} stops waiting; asking for the export again queues a fresh render.

Nothing here is retried: a message this function cannot act on (unreadable, or an export already
finished) is logged and dropped, since returning it would only loop it through the dead-letter queue."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.data.queue import parse_render_message
from casset.services.exports import give_up

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


def dead_letter(record: SQSRecord) -> None:
    try:
        export_id = parse_render_message(record.body)
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable render dead letter dropped", extra={"message_id": record.message_id})
        return
    ended = give_up(export_id)
    logger.warning("render retries exhausted", extra={"export_id": export_id, "ended_failed": ended})
    if ended:
        metrics.add_metric(name="RenderRetriesExhausted", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dead_letter, processor=processor, context=context
    )
