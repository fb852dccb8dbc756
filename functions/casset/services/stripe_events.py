"""Stripe webhooks, received the way dj-stripe does it: the signature is checked against the raw body
before anything is stored (a missing secret refuses everything), each delivery is recorded, the event id
is claimed in one conditional write, a registry maps event types to handlers, and a failure answers
non-2xx so Stripe retries. Every effect is idempotent on its own key as well (see services/purchases.py),
so a replay from the reconciliation job, or a duplicate that slips past the claim, changes nothing."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from casset.data import purchases as purchases_data
from casset.data import secrets, stripe_api, webhook_events
from casset.data import users as users_data
from casset.entities import PaymentFacts, WebhookEventStatus
from casset.errors import BadRequest, Conflict
from casset.services import purchases
from casset.settings import get_settings

logger = Logger(child=True)

PLATFORM = "platform"
CONNECT = "connect"
LEASE = timedelta(minutes=2)  # longer than the webhook function's timeout

# PaymentIntent metadata written at checkout (services/payments.py) and read back here.
META_BUYER_ID = "cassetBuyerId"
META_BUYER_HANDLE = "cassetBuyerHandle"
META_ARTIST_ID = "cassetArtistId"
META_REFERRAL_CODE = "cassetReferralCode"
META_REFERRER_ID = "cassetReferrerId"
META_REFERRAL_CLICKED_AT = "cassetReferralClickedAt"


class InvalidSignature(BadRequest):
    code = "INVALID_SIGNATURE"


class EventInFlight(Conflict):
    code = "EVENT_IN_FLIGHT"


@dataclass(frozen=True)
class Receipt:
    event_id: str
    event_type: str
    status: str  # PROCESSED, IGNORED or DUPLICATE
    outcome: str


Handler = Callable[[dict[str, Any]], str]
HANDLERS: dict[str, Handler] = {}


def handles(event_type: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[event_type] = handler
        return handler

    return register


def receive(endpoint: str, payload: str, signature: str | None) -> Receipt:
    """One delivery to one of our two endpoints: verify, then process. Raises InvalidSignature (400),
    SecretMissing (503: fail closed), EventInFlight (409) or whatever the handler raised (5xx)."""
    if not signature:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    secret = secrets.webhook_secret(endpoint)
    try:
        stripe_api.verify_event(payload, signature, secret, get_settings().stripe_webhook_tolerance_sec)
    except stripe_api.SignatureInvalid as error:
        raise InvalidSignature("The signature does not match the body, or it is too old.") from error
    event = json.loads(payload)
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise InvalidSignature("The body is not a Stripe event.")
    return process(endpoint, event, payload)


def process(endpoint: str, event: dict[str, Any], payload: str) -> Receipt:
    """The authenticated event, from a webhook delivery or from the reconciliation job (same path)."""
    event_id, event_type = event["id"], event["type"]
    claim = webhook_events.claim(
        event_id,
        endpoint=endpoint,
        event_type=event_type,
        livemode=bool(event.get("livemode")),
        account=event.get("account"),
        payload=payload,
        lease=LEASE,
    )
    if claim is webhook_events.Claim.DUPLICATE:
        return Receipt(event_id, event_type, "DUPLICATE", "already processed")
    if claim is webhook_events.Claim.IN_FLIGHT:
        raise EventInFlight("This event is being processed by another delivery; Stripe will retry.")
    if bool(event.get("livemode")) != get_settings().stripe_livemode:
        return _finish(event, WebhookEventStatus.IGNORED, "LIVEMODE_MISMATCH")
    handler = HANDLERS.get(event_type)
    if handler is None:
        return _finish(event, WebhookEventStatus.IGNORED, "UNHANDLED_TYPE")
    try:
        outcome = handler(event)
    except Exception as error:
        webhook_events.fail(event_id, f"{type(error).__name__}: {error}")
        raise
    return _finish(event, WebhookEventStatus.PROCESSED, outcome)


def _finish(event: dict[str, Any], status: WebhookEventStatus, outcome: str) -> Receipt:
    webhook_events.finish(event["id"], status, outcome)
    logger.info("stripe event", extra={"event_id": event["id"], "type": event["type"], "outcome": outcome})
    return Receipt(event["id"], event["type"], status.value, outcome)


def _object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    found = data.get("object") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise ValueError("event without data.object")
    return found


def _id(value: Any) -> str | None:
    """An id field Stripe may send as a string or, expanded, as the object."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _at(epoch: Any) -> datetime:
    return datetime.fromtimestamp(int(epoch), UTC)


def _outcome_of(purchase_id: str) -> str:
    purchase = purchases.converge(purchase_id)
    if purchase is None or not purchase.facts.succeeded:
        return "RECORDED_FOR_UNKNOWN_PURCHASE"
    return purchase.state.value


@handles("payment_intent.succeeded")
def payment_succeeded(event: dict[str, Any]) -> str:
    intent = _object(event)
    metadata = intent.get("metadata") or {}
    buyer_id, artist_id = metadata.get(META_BUYER_ID), metadata.get(META_ARTIST_ID)
    if not buyer_id or not artist_id:
        return "NOT_A_CASSET_PAYMENT"
    clicked = metadata.get(META_REFERRAL_CLICKED_AT)
    purchases_data.record_success(
        PaymentFacts(
            payment_intent_id=intent["id"],
            succeeded=True,
            buyer_id=buyer_id,
            buyer_handle=metadata.get(META_BUYER_HANDLE),
            artist_id=artist_id,
            amount=int(intent["amount"]),
            currency=str(intent["currency"]).upper(),
            application_fee=int(intent.get("application_fee_amount") or 0),
            charge_id=_id(intent.get("latest_charge")),
            succeeded_at=_at(event["created"]),
            referral_code=metadata.get(META_REFERRAL_CODE) or None,
            referrer_id=metadata.get(META_REFERRER_ID) or None,
            referral_clicked_at=_at(clicked) if clicked else None,
        )
    )
    return _outcome_of(intent["id"])


@handles("charge.refunded")
def charge_refunded(event: dict[str, Any]) -> str:
    charge = _object(event)
    intent_id = _id(charge.get("payment_intent"))
    if intent_id is None:
        return "NOT_A_PAYMENT_INTENT_CHARGE"
    purchases_data.record_refund(
        intent_id,
        amount=int(charge["amount"]),
        currency=str(charge["currency"]).upper(),
        amount_refunded=int(charge.get("amount_refunded") or 0),
        charge_id=charge["id"],
    )
    if _id(charge.get("transfer")):
        # A destination charge: the refund came out of the platform's balance; take the artist's share back.
        stripe_api.reverse_transfer_for_refunds(charge["id"])
    return _outcome_of(intent_id)


@handles("charge.dispute.created")
def dispute_created(event: dict[str, Any]) -> str:
    dispute = _object(event)
    intent_id = _id(dispute.get("payment_intent"))
    if intent_id is None:
        return "NOT_A_PAYMENT_INTENT_CHARGE"
    purchases_data.record_dispute(
        intent_id,
        dispute_id=dispute["id"],
        disputed_at=_disputed_at(event, dispute),
        charge_id=_id(dispute.get("charge")) or "",
    )
    return _outcome_of(intent_id)


@handles("charge.dispute.closed")
def dispute_closed(event: dict[str, Any]) -> str:
    """Won (or an inquiry closed without a chargeback): access, payout and reward come back. Lost: the
    purchase stays DISPUTED with its payout held, and the referral reward is cancelled."""
    dispute = _object(event)
    intent_id = _id(dispute.get("payment_intent"))
    if intent_id is None:
        return "NOT_A_PAYMENT_INTENT_CHARGE"
    status = dispute.get("status")
    if not isinstance(status, str) or not status:
        return "DISPUTE_CLOSED_WITHOUT_STATUS"
    purchases_data.record_dispute(
        intent_id,
        dispute_id=dispute["id"],
        disputed_at=_disputed_at(event, dispute),
        charge_id=_id(dispute.get("charge")) or "",
        closed_status=status,
    )
    return _outcome_of(intent_id)


def _disputed_at(event: dict[str, Any], dispute: dict[str, Any]) -> datetime:
    # The dispute's own creation time, so created and closed events record the same fact in either order.
    return _at(dispute.get("created") or event["created"])


@handles("payout.paid")
def payout_paid(event: dict[str, Any]) -> str:
    payout = _object(event)
    account = event.get("account")
    if not account:
        return "PLATFORM_PAYOUT"
    intents = stripe_api.payment_intents_in_payout(account, payout["id"])
    settled = 0
    for intent_id in intents:
        purchases_data.record_paid_out(intent_id, payout["id"])
        purchase = purchases.converge(intent_id)
        settled += purchase is not None and purchase.facts.succeeded
    return f"SETTLED {settled} OF {len(intents)}"


@handles("account.updated")
def account_updated(event: dict[str, Any]) -> str:
    account = _object(event)
    account_id = account["id"]
    user_id = users_data.user_id_for_stripe_account(account_id)
    if user_id is None:
        return "UNKNOWN_ACCOUNT"
    complete = bool(account.get("charges_enabled")) and bool(account.get("payouts_enabled"))
    applied = users_data.sync_onboarding(user_id, account_id, complete, _at(event["created"]))
    if not applied:
        return "STALE_EVENT"
    return "ONBOARDING_COMPLETE" if complete else "ONBOARDING_INCOMPLETE"


def reconcile(now: datetime) -> list[Receipt]:
    """Re-process what Stripe reports as undelivered over the last days, through `process`: the
    platform's events and every connected account's."""
    since = now - timedelta(days=get_settings().stripe_reconcile_days)
    receipts = []
    sources: list[tuple[str, str | None]] = [(PLATFORM, None)]
    sources += [(CONNECT, account) for account in users_data.connected_account_ids()]
    for endpoint, account in sources:
        for event in stripe_api.undelivered_events(since, account):
            try:
                receipts.append(process(endpoint, event, json.dumps(event)))
            except EventInFlight:
                continue  # a delivery is on it right now
    return receipts
