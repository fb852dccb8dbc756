"""SQS → render one export job. Partial batch failures: only a record whose render could not finish for
a transient reason (throttling, a storage hiccup) is reported back for redelivery; a render that fails
for its inputs ends FAILED with a reason and is not retried."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.data.queue import parse_render_message
from casset.services.rendering import render_export

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def render_record(record: SQSRecord) -> str:
    export_id = parse_render_message(record.body)
    outcome = render_export(export_id)
    logger.info("render finished", extra={"export_id": export_id, "outcome": outcome.value})
    metrics.add_metric(name=f"Render{outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1)
    return outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=render_record, processor=processor, context=context
    )
