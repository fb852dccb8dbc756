"""Two entry points for media stuck PROCESSING (casset.services.stalled_media), neither with PyAV:

- `expire_handler`: scheduled; fails records whose upload never arrived (UPLOAD_NEVER_ARRIVED).
- `probe_failure_handler`: SQS, fed by the probe's on-failure destination with the S3 event whose every
  attempt crashed or timed out; ends those records FAILED (PROBE_FAILED).
- `preview_dead_letter_handler`: SQS, the preview queue's dead letters; records the cut as failed
  (PREVIEW_RETRIES_EXHAUSTED) so /preview stops answering "being cut".

A message these handlers cannot read is logged and dropped: returning it would only loop it."""

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes import S3Event
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.data.queue import parse_preview_message
from casset.services.stalled_media import expire_overdue_uploads, give_up_preview, give_up_probe

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def expire_handler(event: dict, context: LambdaContext) -> dict[str, int]:
    sweep = expire_overdue_uploads()
    logger.info("upload expiry sweep", extra={"expired": sweep.expired, "arrived": sweep.arrived})
    metrics.add_metric(name="UploadsNeverArrived", unit=MetricUnit.Count, value=sweep.expired)
    return {"expired": sweep.expired, "arrived": sweep.arrived}


def failed_probe(record: SQSRecord) -> None:
    try:
        destination: dict[str, Any] = json.loads(record.body)
        keys = [unquote_plus(s3.s3.get_object.key) for s3 in S3Event(destination["requestPayload"]).records]
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable probe failure dropped", extra={"message_id": record.message_id})
        return
    condition = destination.get("requestContext", {}).get("condition", "RetriesExhausted")
    error = destination.get("responsePayload") or {}
    cause = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"[:200]
    message = f"The probe failed on every attempt ({condition}; {cause}); upload the file again."
    for key in keys:
        ended = give_up_probe(key, message)
        logger.warning("probe gave up", extra={"key": key, "ended_failed": ended, "condition": condition})
        if ended:
            metrics.add_metric(name="ProbeGaveUp", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def probe_failure_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=failed_probe, processor=processor, context=context
    )


def dead_preview(record: SQSRecord) -> None:
    try:
        track_id = parse_preview_message(record.body)
    except (ValueError, KeyError, TypeError):
        logger.error("unreadable preview dead letter dropped", extra={"message_id": record.message_id})
        return
    ended = give_up_preview(track_id)
    logger.warning("preview retries exhausted", extra={"track_id": track_id, "recorded_failed": ended})
    if ended:
        metrics.add_metric(name="PreviewRetriesExhausted", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def preview_dead_letter_handler(event: dict, context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=dead_preview, processor=processor, context=context
    )
