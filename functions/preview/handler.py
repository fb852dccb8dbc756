"""SQS → cut one track's hook preview. A transient failure (storage, throttling) is reported back for
redelivery; audio that cannot be decoded at the hook is recorded on the track as a failed cut (with its
reason) and not retried until the audio or the hook changes."""

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.data.queue import parse_preview_message
from casset.services.preview_cuts import refresh

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def cut_record(record: SQSRecord) -> str:
    track_id = parse_preview_message(record.body)
    outcome = refresh(track_id)
    logger.info("preview", extra={"track_id": track_id, "outcome": outcome.value})
    metrics.add_metric(
        name=f"Preview{outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    return outcome.value


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=cut_record, processor=processor, context=context
    )
