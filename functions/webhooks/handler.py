"""The two Stripe webhook endpoints, each its own Lambda behind an anonymous HTTP API route (Stripe's
signature is the authentication): POST /api/webhooks/stripe (platform events: payments, refunds,
disputes) and POST /api/webhooks/stripe/connect (connected-account events: account.updated, payout.paid).
Each function may read only its own signing secret, so a request routed to the wrong one fails closed.

Each endpoint takes only its own event types (casset/services/stripe_events.py): platform events without
`account`, Connect events with it; anything else is recorded IGNORED with the reason.

Answers: 200 when the event is processed, ignored or a duplicate; 400 INVALID_SIGNATURE for a missing,
wrong or expired signature (nothing stored); 400 MALFORMED_EVENT for a signed body that is not an event,
or an event whose object lacks a field we read (recorded REJECTED with the reason, the same answer on
every redelivery); 409 while another delivery of the same event is running; 503 when the signing secret
or Stripe is unavailable; 500 on any other failure. Stripe retries every non-2xx."""

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from api import errors
from api.routes.common import errors as error_responses
from api.routes.common import ok_response
from casset import inputs
from casset.services import stripe_events

logger = Logger()
tracer = Tracer()
metrics = Metrics()

app = APIGatewayHttpResolver(enable_validation=True)
errors.register(app)
RESPONSES = ok_response("Processed, ignored or a duplicate") | error_responses(400, 409)
Signature = Annotated[str | None, Header(alias="stripe-signature", max_length=4096)]


class ReceiptOut(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)

    event_id: str
    type: str
    status: str  # PROCESSED, IGNORED or DUPLICATE (a REJECTED event is answered 400)
    outcome: str


def _receive(endpoint: str, signature: str | None) -> ReceiptOut:
    # The raw body, exactly as signed: API Gateway base64-encodes bodies it does not treat as text.
    payload = app.current_event.decoded_body or ""
    # Stripe's library and ours parse the body after the signature check; neither may recurse into a
    # body nested thousands deep (a RecursionError would be a 500, retried by Stripe for days).
    inputs.check_nesting(payload)
    try:
        receipt = stripe_events.receive(endpoint, payload, signature)
    except stripe_events.MalformedEvent:
        metrics.add_metric(name="StripeEventRejected", unit=MetricUnit.Count, value=1)
        raise
    metrics.add_metric(name=f"StripeEvent{receipt.status.title()}", unit=MetricUnit.Count, value=1)
    if receipt.outcome == stripe_events.DISPUTE_STATUS_UNKNOWN:
        metrics.add_metric(name="StripeDisputeStatusUnknown", unit=MetricUnit.Count, value=1)
    return ReceiptOut(
        event_id=receipt.event_id, type=receipt.event_type, status=receipt.status, outcome=receipt.outcome
    )


@app.post(
    "/api/webhooks/stripe",
    operation_id="receiveStripeEvent",
    summary="Stripe webhook (platform endpoint, its own signing secret)",
    tags=["webhooks"],
    responses=RESPONSES,
)
def platform_events(stripe_signature: Signature = None) -> ReceiptOut:
    return _receive(stripe_events.PLATFORM, stripe_signature)


@app.post(
    "/api/webhooks/stripe/connect",
    operation_id="receiveStripeConnectEvent",
    summary="Stripe webhook (Connect endpoint for connected-account events, its own signing secret)",
    tags=["webhooks"],
    responses=RESPONSES,
)
def connect_events(stripe_signature: Signature = None) -> ReceiptOut:
    return _receive(stripe_events.CONNECT, stripe_signature)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def platform_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def connect_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
