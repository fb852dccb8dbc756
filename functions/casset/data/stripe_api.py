"""Stripe's API: the only code that calls it. Returns plain values and raises domain errors.

Every create carries an idempotency key, so a retried request (ours or Stripe's) never makes a second
account, PaymentIntent or transfer reversal. STRIPE_API_BASE points the client at the local fake."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import stripe

from casset.data.secrets import stripe_api_key
from casset.errors import Conflict, Unavailable
from casset.rules import transfer_reversal_due
from casset.settings import get_settings


class PaymentsUnavailable(Unavailable):
    code = "PAYMENTS_UNAVAILABLE"


@dataclass(frozen=True)
class CreatedPaymentIntent:
    id: str
    client_secret: str
    amount: int
    currency: str
    application_fee_amount: int


@lru_cache(maxsize=4)
def _client_for(api_key: str, api_base: str) -> stripe.StripeClient:
    base = {"api": api_base} if api_base else None
    return stripe.StripeClient(api_key, base_addresses=base, max_network_retries=2)  # type: ignore[arg-type]


def _client() -> stripe.StripeClient:
    return _client_for(stripe_api_key(), get_settings().stripe_api_base)


def _call(action: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except stripe.InvalidRequestError as error:
        raise Conflict(
            f"Stripe refused to {action}: {error.user_message or error}", code="STRIPE_REJECTED"
        ) from error
    except stripe.StripeError as error:
        raise PaymentsUnavailable(f"Stripe is unavailable ({action}); retry shortly.") from error


def create_express_account(user_id: str) -> str:
    account = _call(
        "create the connected account",
        _client().v1.accounts.create,
        params={
            "type": "express",
            "metadata": {"userId": user_id},
            "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
        },
        # One account per user, however often and however concurrently they press Connect.
        options={"idempotency_key": f"express-account-{user_id}"},
    )
    return str(account.id)


def create_onboarding_link(account_id: str, refresh_url: str, return_url: str) -> tuple[str, datetime]:
    link = _call(
        "create the onboarding link",
        _client().v1.account_links.create,
        params={
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        },
    )
    return str(link.url), datetime.fromtimestamp(int(link.expires_at), UTC)


def create_payment_intent(
    *,
    amount: int,
    currency: str,
    destination: str,
    application_fee_amount: int,
    metadata: dict[str, str],
    description: str,
    idempotency_key: str,
) -> CreatedPaymentIntent:
    intent = _call(
        "create the payment",
        _client().v1.payment_intents.create,
        params={
            "amount": amount,
            "currency": currency.lower(),
            "transfer_data": {"destination": destination},
            "application_fee_amount": application_fee_amount,
            "metadata": metadata,
            "description": description,
        },
        options={"idempotency_key": idempotency_key},
    )
    return CreatedPaymentIntent(
        id=str(intent.id),
        client_secret=str(intent.client_secret),
        amount=int(intent.amount),
        currency=str(intent.currency).upper(),
        application_fee_amount=application_fee_amount,
    )


def reverse_transfer_for_refunds(charge_id: str) -> int:
    """Pull back from the artist the share of what was refunded on a destination charge (Stripe does not
    do this by itself for refunds made without reverse_transfer, e.g. from the Dashboard). Returns the
    amount reversed now; 0 when nothing more is owed. Keyed on the cumulative refund, so replays and
    concurrent deliveries create one reversal per refund step."""
    client = _client()
    charge = _call("read the charge", client.v1.charges.retrieve, charge_id, params={"expand": ["transfer"]})
    transfer = charge.to_dict().get("transfer")
    if not transfer or isinstance(transfer, str):
        return 0
    due = transfer_reversal_due(
        int(charge.amount),
        int(charge.amount_refunded),
        int(transfer["amount"]),
        int(transfer.get("amount_reversed") or 0),
    )
    if due <= 0:
        return 0
    _call(
        "reverse the transfer",
        client.v1.transfers.reversals.create,
        transfer["id"],
        params={"amount": due, "metadata": {"chargeId": charge_id}},
        options={"idempotency_key": f"refund-reversal-{charge_id}-{int(charge.amount_refunded)}"},
    )
    return due


def account_onboarding_complete(account_id: str) -> bool:
    """The connected account as Stripe has it now: it can take payments once both charges and payouts
    are enabled. Read, rather than taken from an event's snapshot, so event order cannot matter."""
    account = _call("read the connected account", _client().v1.accounts.retrieve, account_id).to_dict()
    return bool(account.get("charges_enabled")) and bool(account.get("payouts_enabled"))


def payment_intent_of_charge(charge_id: str) -> str | None:
    """The PaymentIntent a charge belongs to, as Stripe has it (None for a charge made without one)."""
    try:
        charge = _client().v1.charges.retrieve(charge_id)
    except stripe.InvalidRequestError as error:
        if error.http_status == 404:
            return None  # Stripe has no such charge: certainly not one of our payments
        raise PaymentsUnavailable("Stripe refused to read the charge; retry shortly.") from error
    except stripe.StripeError as error:
        raise PaymentsUnavailable("Stripe is unavailable (read the charge); retry shortly.") from error
    intent = charge.to_dict().get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    return intent if isinstance(intent, str) and intent else None


def payment_intents_in_payout(account_id: str, payout_id: str) -> list[str]:
    """The PaymentIntents whose destination transfers a connected account's payout carried: the payout's
    balance transactions on that account, each a payment whose source transfer came from our charge."""
    client = _client()
    page = _call(
        "list the payout's transactions",
        client.v1.balance_transactions.list,
        params={
            "payout": payout_id,
            "type": "payment",
            "limit": 100,
            "expand": ["data.source.source_transfer.source_transaction"],
        },
        options={"stripe_account": account_id},
    )
    found = []
    for transaction in _all(page):
        source = transaction.get("source") or {}
        transfer = source.get("source_transfer") if isinstance(source, dict) else None
        charge = transfer.get("source_transaction") if isinstance(transfer, dict) else None
        intent = charge.get("payment_intent") if isinstance(charge, dict) else None
        if isinstance(intent, str):
            found.append(intent)
    return found


def undelivered_events(since: datetime, account_id: str | None = None) -> list[dict[str, Any]]:
    """Events Stripe reports as not yet delivered successfully to some endpoint, oldest first."""
    options: dict[str, Any] = {"stripe_account": account_id} if account_id else {}
    page = _call(
        "list undelivered events",
        _client().v1.events.list,
        params={"delivery_success": False, "created": {"gte": int(since.timestamp())}, "limit": 100},
        options=options,
    )
    return sorted(_all(page), key=lambda event: event.get("created", 0))


def _all(page: Any) -> Iterator[dict[str, Any]]:
    try:
        for item in page.auto_paging_iter():
            yield item.to_dict()
    except stripe.StripeError as error:
        raise PaymentsUnavailable("Stripe is unavailable (paging); retry shortly.") from error


class SignatureInvalid(Exception):
    """The body is not what Stripe signed with this endpoint's secret (or too old)."""


def verify_event(payload: str, signature: str, secret: str, tolerance_sec: int) -> None:
    """Stripe's own check (stripe.WebhookSignature.verify_header) on the raw body: HMAC-SHA256 over
    "{t}.{body}" with the endpoint secret, compared in constant time, t within the tolerance. Only the
    signature: what the body holds is checked by the caller (construct_event would also parse it, and
    fails with an AttributeError on signed JSON that is not an object)."""
    try:
        stripe.WebhookSignature.verify_header(payload, signature, secret, tolerance=tolerance_sec)
    except (stripe.SignatureVerificationError, ValueError) as error:
        raise SignatureInvalid(str(error)) from error
