"""Stripe webhooks, received the way dj-stripe does it: the signature is checked against the raw body
before anything is stored (a missing secret refuses everything), each delivery is recorded, the event id
is claimed in one conditional write, a registry maps event types to handlers, and a failure answers
non-2xx so Stripe retries. Every effect is idempotent on its own key as well (see services/purchases.py),
so a replay from the reconciliation job, or a duplicate that slips past the claim, changes nothing.

Each endpoint has its own registry, which is its allowlist: the platform endpoint takes payment, refund
and dispute events of our own account (no `account`), the Connect endpoint account and payout events of
connected accounts (with `account`); anything else is recorded IGNORED with the reason and answered 200.
Shapes are checked at the edge (casset/stripe_shapes.py) before any handler runs: a signed body that is
not an event, or an event whose object lacks a field its handler reads, is answered 400 MALFORMED_EVENT
and recorded REJECTED with the reason. REJECTED is terminal: Stripe's retries get the same answer, and
nothing is processed or retried on our side."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from aws_lambda_powertools import Logger

from casset import rules
from casset.clock import utcnow
from casset.data import purchases as purchases_data
from casset.data import referrals as referrals_data
from casset.data import secrets, stripe_api, webhook_events
from casset.data import users as users_data
from casset.entities import PaymentFacts, WebhookEventStatus
from casset.errors import BadRequest, Conflict
from casset.services import purchases
from casset.settings import get_settings
from casset.stripe_shapes import (
    AccountShape,
    ChargeShape,
    DisputeShape,
    Event,
    PaymentIntentShape,
    PayoutShape,
    ReferralMetadata,
    Shape,
    ShapeError,
    checkout_metadata,
    identify,
    parse_event,
    parse_object,
)

logger = Logger(child=True)
# Ignored for where (or how) it arrived, not for what it is: the same event delivered properly later,
# or found by the reconciliation sweep, is still processed.
MISROUTED = ("NOT_FOR_THIS_ENDPOINT", "CONNECT_EVENT_WITHOUT_ACCOUNT", "CONNECTED_ACCOUNT_EVENT_ON_PLATFORM")
# The outcome of a dispute event whose status rules.DISPUTE_KNOWN lacks.
DISPUTE_STATUS_UNKNOWN = "DISPUTE_STATUS_UNKNOWN"

PLATFORM = "platform"
CONNECT = "connect"
LEASE = timedelta(minutes=2)  # longer than the webhook function's timeout


class InvalidSignature(BadRequest):
    code = "INVALID_SIGNATURE"


class EventInFlight(Conflict):
    code = "EVENT_IN_FLIGHT"


class MalformedEvent(BadRequest):
    """Signed by Stripe, but not the shape we read; recorded REJECTED, never processed."""

    code = "MALFORMED_EVENT"


_REJECTION_MESSAGES = {
    "NOT_AN_EVENT": "The body is signed but is not a Stripe event.",
    "MALFORMED_EVENT": "The event lacks a field we read (id, type, created, data.object).",
    "MALFORMED_OBJECT": "The event's object lacks a field we read, or has it in another shape.",
}


@dataclass(frozen=True)
class Receipt:
    event_id: str
    event_type: str
    status: str  # PROCESSED, IGNORED, DUPLICATE (or REJECTED, in the reconciliation's report)
    outcome: str


@dataclass(frozen=True)
class Route:
    shape: type[Shape]
    handle: Callable[[Event, Any], str]


ROUTES: dict[str, dict[str, Route]] = {PLATFORM: {}, CONNECT: {}}


def handles[S: Shape](
    endpoint: str, event_type: str, shape: type[S]
) -> Callable[[Callable[[Event, S], str]], Callable[[Event, S], str]]:
    def register(handler: Callable[[Event, S], str]) -> Callable[[Event, S], str]:
        ROUTES[endpoint][event_type] = Route(shape, handler)
        return handler

    return register


def receive(endpoint: str, payload: str, signature: str | None) -> Receipt:
    """One delivery to one of our two endpoints: verify, then process. Raises InvalidSignature (400),
    MalformedEvent (400), SecretMissing (503: fail closed), EventInFlight (409) or whatever the handler
    raised (5xx)."""
    if not signature:
        raise InvalidSignature("The Stripe-Signature header is missing.")
    secret = secrets.webhook_secret(endpoint)
    try:
        stripe_api.verify_event(payload, signature, secret, get_settings().stripe_webhook_tolerance_sec)
    except stripe_api.SignatureInvalid as error:
        raise InvalidSignature("The signature does not match the body, or it is too old.") from error
    try:
        body = json.loads(payload)
    except ValueError:
        body = None  # signed, but not JSON: not an event either
    return process(endpoint, authenticated(endpoint, body, payload), payload)


def authenticated(endpoint: str, body: Any, payload: str) -> Event:
    """The event a verified body holds; a body that is not one is recorded REJECTED (under its own id,
    or its digest when it has none) and refused with MalformedEvent."""
    try:
        identity = identify(body)
    except ShapeError as error:
        digest = hashlib.sha256(payload.encode()).hexdigest()[:40]
        _reject(f"unidentified-{digest}", endpoint, "unknown", payload, error)
    try:
        return parse_event(body)
    except ShapeError as error:
        _reject(identity.id, endpoint, identity.type, payload, error)


def _reject(event_id: str, endpoint: str, event_type: str, payload: str, error: ShapeError) -> NoReturn:
    webhook_events.reject(
        event_id,
        endpoint=endpoint,
        event_type=event_type,
        payload=payload,
        reason=error.reason,
        error=str(error),
    )
    _refuse(event_id, event_type, error.reason, str(error), list(error.details))


def _refuse(
    event_id: str, event_type: str, reason: str, error: str, details: list[dict[str, str]]
) -> NoReturn:
    logger.warning("stripe event rejected", extra={"event_id": event_id, "type": event_type, "error": error})
    message = _REJECTION_MESSAGES.get(reason, "The event is not the shape we read.")
    raise MalformedEvent(message, details=[{"reason": reason, "error": error}, *details])


def process(endpoint: str, event: Event, payload: str) -> Receipt:
    """The authenticated event, from a webhook delivery or from the reconciliation job (same path)."""
    claim = webhook_events.claim(
        event.id,
        endpoint=endpoint,
        event_type=event.type,
        livemode=event.livemode,
        account=event.account,
        payload=payload,
        lease=LEASE,
        reclaimable=MISROUTED,
    )
    if claim is webhook_events.Claim.DUPLICATE:
        return Receipt(event.id, event.type, "DUPLICATE", "already processed")
    if claim is webhook_events.Claim.REJECTED:
        reason, error = webhook_events.rejection_of(event.id)
        _refuse(event.id, event.type, reason, error, [])
    if claim is webhook_events.Claim.IN_FLIGHT:
        raise EventInFlight("This event is being processed by another delivery; Stripe will retry.")
    if event.livemode != get_settings().stripe_livemode:
        return _finish(event, WebhookEventStatus.IGNORED, "LIVEMODE_MISMATCH")
    route = ROUTES[endpoint].get(event.type)
    if route is None:
        elsewhere = any(event.type in routes for routes in ROUTES.values())
        return _finish(
            event, WebhookEventStatus.IGNORED, "NOT_FOR_THIS_ENDPOINT" if elsewhere else "UNHANDLED_TYPE"
        )
    if endpoint == CONNECT and not event.account:
        return _finish(event, WebhookEventStatus.IGNORED, "CONNECT_EVENT_WITHOUT_ACCOUNT")
    if endpoint == PLATFORM and event.account:
        return _finish(event, WebhookEventStatus.IGNORED, "CONNECTED_ACCOUNT_EVENT_ON_PLATFORM")
    try:
        obj = parse_object(event, route.shape)
    except ShapeError as error:
        webhook_events.finish(event.id, WebhookEventStatus.REJECTED, error.reason, str(error))
        _refuse(event.id, event.type, error.reason, str(error), list(error.details))
    try:
        outcome = route.handle(event, obj)
    except Exception as error:
        webhook_events.fail(event.id, f"{type(error).__name__}: {error}")
        raise
    return _finish(event, WebhookEventStatus.PROCESSED, outcome)


def _finish(event: Event, status: WebhookEventStatus, outcome: str) -> Receipt:
    webhook_events.finish(event.id, status, outcome)
    logger.info("stripe event", extra={"event_id": event.id, "type": event.type, "outcome": outcome})
    return Receipt(event.id, event.type, status.value, outcome)


def _outcome_of(purchase_id: str) -> str:
    purchase = purchases.converge(purchase_id)
    if purchase is None or not purchase.facts.succeeded:
        return "RECORDED_FOR_UNKNOWN_PURCHASE"
    return purchase.state.value


def _purchase_of_charge(charge_id: str, payment_intent_id: str | None) -> str | None:
    """The purchase a charge's event is about. `payment_intent` is null on some charges and disputes:
    then the charge id we stored with the purchase finds it, and failing that (its own event has not
    arrived yet) the charge as Stripe has it now."""
    return (
        payment_intent_id
        or purchases_data.purchase_id_for_charge(charge_id)
        or stripe_api.payment_intent_of_charge(charge_id)
    )


@handles(PLATFORM, "payment_intent.succeeded", PaymentIntentShape)
def payment_succeeded(event: Event, intent: PaymentIntentShape) -> str:
    metadata = checkout_metadata(intent.metadata)
    if not metadata.buyer_id or not metadata.artist_id:
        return "NOT_A_CASSET_PAYMENT"
    referral, dropped = metadata.referral, metadata.referral_dropped
    if referral is not None:
        dropped = _referral_mismatch(referral, metadata.artist_id)
        referral = None if dropped else referral
    if dropped:
        logger.warning("referral dropped", extra={"payment_intent": intent.id, "reason": dropped})
    purchases_data.record_success(
        PaymentFacts(
            payment_intent_id=intent.id,
            succeeded=True,
            buyer_id=metadata.buyer_id,
            buyer_handle=metadata.buyer_handle,
            artist_id=metadata.artist_id,
            amount=intent.amount,
            currency=intent.currency.upper(),
            application_fee=intent.application_fee_amount or 0,
            charge_id=intent.latest_charge,
            succeeded_at=event.created_at,
            referral_code=referral.code if referral else None,
            referrer_id=referral.referrer_id if referral else None,
            referral_clicked_at=referral.clicked_at if referral else None,
            referral_dropped=dropped,
        )
    )
    outcome = _outcome_of(intent.id)
    return f"{outcome}; REFERRAL_DROPPED: {dropped}" if dropped else outcome


def _referral_mismatch(referral: ReferralMetadata, artist_id: str) -> str | None:
    """Why the referral metadata does not describe one of our links for this artist, or None."""
    link = referrals_data.get_link(referral.code)
    if link is None:
        return "cassetReferralCode is not a referral link"
    if link.referrer_id != referral.referrer_id:
        return "cassetReferrerId is not the link's referrer"
    if link.artist_id != artist_id:
        return "the referral link is for another artist"
    return None


@handles(PLATFORM, "charge.refunded", ChargeShape)
def charge_refunded(event: Event, charge: ChargeShape) -> str:
    intent_id = _purchase_of_charge(charge.id, charge.payment_intent)
    if intent_id is None:
        return "NOT_A_PAYMENT_INTENT_CHARGE"
    purchases_data.record_refund(
        intent_id,
        amount=charge.amount,
        currency=charge.currency.upper(),
        amount_refunded=charge.amount_refunded,
        charge_id=charge.id,
    )
    # A destination charge: the refund came out of the platform's balance; take the artist's share back.
    # The transfer is read from the charge as Stripe has it now: events often leave `transfer` out.
    stripe_api.reverse_transfer_for_refunds(charge.id)
    return _outcome_of(intent_id)


def _dispute_changed(event: Event, dispute: DisputeShape) -> str:
    """Any dispute event: the dispute's facts, and the status it had at the event's time (the latest
    status by time decides; see rules.dispute_open). An inquiry leaves access and payout alone."""
    intent_id = _purchase_of_charge(dispute.charge, dispute.payment_intent)
    if intent_id is None:
        return "NOT_A_PAYMENT_INTENT_CHARGE"
    purchases_data.record_dispute(
        intent_id,
        dispute_id=dispute.id,
        disputed_at=dispute.created_at,
        charge_id=dispute.charge,
        status=dispute.status,
        status_at=event.created_at,
    )
    outcome = _outcome_of(intent_id)
    if dispute.status not in rules.DISPUTE_KNOWN:
        # Recorded, but it decides nothing (a granted purchase stays granted) until someone reads it:
        # the webhook function counts it (StripeDisputeStatusUnknown) for an alarm.
        logger.error(
            "unknown dispute status",
            extra={"event_id": event.id, "dispute_status": dispute.status, "purchase_state": outcome},
        )
        return DISPUTE_STATUS_UNKNOWN
    return outcome


handles(PLATFORM, "charge.dispute.created", DisputeShape)(_dispute_changed)
# An inquiry escalating to a chargeback, evidence under review, an appeal's new status.
handles(PLATFORM, "charge.dispute.updated", DisputeShape)(_dispute_changed)
handles(PLATFORM, "charge.dispute.closed", DisputeShape)(_dispute_changed)


@handles(CONNECT, "payout.paid", PayoutShape)
def payout_paid(event: Event, payout: PayoutShape) -> str:
    account = event.account or ""  # the Connect endpoint only routes events that carry one
    intents = stripe_api.payment_intents_in_payout(account, payout.id)
    settled = 0
    for intent_id in intents:
        purchases_data.record_paid_out(intent_id, payout.id)
        purchase = purchases.converge(intent_id)
        settled += purchase is not None and purchase.facts.succeeded
    return f"SETTLED {settled} OF {len(intents)}"


@handles(CONNECT, "account.updated", AccountShape)
def account_updated(event: Event, account: AccountShape) -> str:
    """A signal that the account changed: its state is read from Stripe, not from the event's snapshot,
    so events delivered late, twice or out of order (even within one second) cannot undo a newer state."""
    if account.id != event.account:
        return "NOT_THE_EVENTS_ACCOUNT"
    user_id = users_data.user_id_for_stripe_account(account.id)
    if user_id is None:
        return "UNKNOWN_ACCOUNT"
    complete = stripe_api.account_onboarding_complete(account.id)
    if not users_data.sync_onboarding(user_id, account.id, complete, utcnow()):
        return "STALE_READ"
    return "ONBOARDING_COMPLETE" if complete else "ONBOARDING_INCOMPLETE"


@dataclass(frozen=True)
class Reconciliation:
    receipts: list[Receipt]
    failures: list[tuple[str, str]]  # (event id or source, error): retried by the next run


def _as_listed_for(body: dict[str, Any], account: str | None) -> dict[str, Any] | None:
    """An event from a connected account's listing is that account's: one that leaves `account` out gets
    it, one that names another account is refused (None; nothing is recorded, so its real delivery is
    not blocked). The platform's listing is taken as it is."""
    if account is None:
        return body
    named = body.get("account")
    if named is None:
        return body | {"account": account}
    return body if named == account else None


def reconcile(now: datetime) -> Reconciliation:
    """Re-process what Stripe reports as undelivered over the last days, through `process`: the
    platform's events and every connected account's. One event (or one account's listing) that fails
    does not stop the sweep: it is reported in `failures` and the rest are still processed."""
    since = now - timedelta(days=get_settings().stripe_reconcile_days)
    receipts: list[Receipt] = []
    failures: list[tuple[str, str]] = []
    sources: list[tuple[str, str | None]] = [(PLATFORM, None)]
    sources += [(CONNECT, account) for account in users_data.connected_account_ids()]
    for endpoint, account in sources:
        try:
            listed = stripe_api.undelivered_events(since, account)
        except Exception as error:
            logger.exception("listing undelivered events failed", extra={"account": account})
            failures.append((account or PLATFORM, f"{type(error).__name__}: {error}"))
            continue
        for listed_body in listed:
            event_id, event_type = str(listed_body.get("id")), str(listed_body.get("type"))
            body = _as_listed_for(listed_body, account)
            if body is None:
                logger.warning(
                    "listed event names another account",
                    extra={"event_id": event_id, "listed_for": account, "names": listed_body.get("account")},
                )
                receipts.append(
                    Receipt(event_id, event_type, WebhookEventStatus.REJECTED.value, "ACCOUNT_MISMATCH")
                )
                continue
            payload = json.dumps(body)
            try:
                receipts.append(process(endpoint, authenticated(endpoint, body, payload), payload))
            except EventInFlight:
                continue  # a delivery is on it right now
            except MalformedEvent as error:
                receipts.append(
                    Receipt(event_id, event_type, WebhookEventStatus.REJECTED.value, error.message)
                )
            except Exception as error:
                logger.exception("reconciling an event failed", extra={"event_id": event_id})
                failures.append((event_id, f"{type(error).__name__}: {error}"))
    return Reconciliation(receipts, failures)
