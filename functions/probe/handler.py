"""S3 ObjectCreated → PyAV probe → the visual or track is READY or FAILED.

Each record is handled on its own: one bad record does not fail the others, and an unexpected error
re-raises after the loop so Lambda's async retry (and its on-failure handling) sees it.
"""

from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from casset.services.probing import Outcome, probe_uploaded

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict[str, list[dict[str, str]]]:
    results = []
    errors: list[Exception] = []
    for record in event.records:
        key = unquote_plus(record.s3.get_object.key)  # S3 event keys arrive URL-encoded
        try:
            outcome = probe_uploaded(key)
        except Exception as error:
            logger.exception("probe failed unexpectedly", extra={"key": key})
            errors.append(error)
            continue
        log = logger.info if outcome in {Outcome.READY, Outcome.FAILED} else logger.warning
        log("probed upload", extra={"key": key, "outcome": outcome.value})
        metrics.add_metric(
            name=f"Probe{outcome.value.title().replace('_', '')}", unit=MetricUnit.Count, value=1
        )
        results.append({"key": key, "outcome": outcome.value})
    if errors:
        raise errors[0]
    return {"results": results}
