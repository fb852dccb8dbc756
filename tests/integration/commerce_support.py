"""Helpers for the commerce tests: the Stripe fake in this process (over HTTP on loopback), webhook
deliveries signed with Stripe's scheme (as stripe-python's tests sign them), artists who connected Stripe
and fans who paid. Everything goes through the real handlers."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests

from infra.local.blueprint import LOCAL_SECRETS
from infra.local.functions import LambdaContext
from infra.local.stripe_fake import API_KEY, StripeFake
from tests.conftest import http_event
from tests.integration import support
from tests.stripe_objects import stripe_event, stripe_object

PLATFORM_SECRET = LOCAL_SECRETS["STRIPE_WEBHOOK_SECRET_PARAMETER"]
CONNECT_SECRET = LOCAL_SECRETS["STRIPE_CONNECT_WEBHOOK_SECRET_PARAMETER"]
PLATFORM_PATH = "/api/webhooks/stripe"
CONNECT_PATH = "/api/webhooks/stripe/connect"


def reset_caches() -> None:
    from aws_lambda_powertools.utilities import parameters

    from casset.data import stripe_api
    from casset.settings import get_settings

    get_settings.cache_clear()
    parameters.clear_caches()
    stripe_api._client_for.cache_clear()


@pytest.fixture(scope="module")
def stripe(aws: Any) -> Iterator[StripeFake]:
    """The fake, and the application pointed at it (the `aws` fixture restores the environment)."""
    fake = StripeFake.start()
    os.environ["STRIPE_API_BASE"] = fake.url
    reset_caches()
    yield fake
    reset_caches()


@pytest.fixture
def sale(api: support.Api, stripe: StripeFake) -> dict[str, Any]:
    """A payment made at the fake whose succeeded event has not been delivered yet."""
    seller = onboarded_artist(api, stripe)
    buyer = fan(api)
    intent = checkout(api, buyer, seller)["paymentIntentId"]
    return {"seller": seller, "buyer": buyer, "intent": intent, "succeeded": pay(stripe, intent)}


@pytest.fixture
def atomic_dynamodb() -> Iterator[None]:
    """moto applies a DynamoDB request without a lock, so two threads updating one item can lose a
    write, which DynamoDB never does (every request is atomic on its item). Concurrency tests serialise
    moto's request handling to get DynamoDB's guarantee back; the interleaving of requests stays free."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with lock:
            return original(self)

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    yield
    DynamoHandler.call_action = original  # type: ignore[method-assign]


def signature(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature as Stripe computes it (stripe-python's own header generator)."""
    import stripe as stripe_sdk

    return str(stripe_sdk.WebhookSignature.generate_signature_header(payload, secret, timestamp))


def deliver(
    event: dict[str, Any] | str,
    *,
    connect: bool = False,
    secret: str | None = None,
    signed: bool = True,
    timestamp: int | None = None,
    base64_body: bool = False,
) -> tuple[int, dict[str, Any]]:
    """POST the event to our webhook function as API Gateway would, signed for that endpoint."""
    import base64

    from webhooks.handler import connect_handler, platform_handler

    payload = event if isinstance(event, str) else json.dumps(event)
    secret = secret or (CONNECT_SECRET if connect else PLATFORM_SECRET)
    headers = {"stripe-signature": signature(payload, secret, timestamp)} if signed else {}
    body = base64.b64encode(payload.encode()).decode() if base64_body else payload
    request = http_event(
        "POST", CONNECT_PATH if connect else PLATFORM_PATH, headers=headers, raw_body=body, base64=base64_body
    )
    handler = connect_handler if connect else platform_handler
    response = handler(request, LambdaContext("webhook", 512, 30))
    return response["statusCode"], json.loads(response["body"])


def stripe_get(fake: StripeFake, path: str, account: str | None = None) -> dict[str, Any]:
    headers = {"Stripe-Account": account} if account else {}
    response = requests.get(fake.url + path, auth=(API_KEY, ""), headers=headers, timeout=10)
    assert response.ok, response.text
    return dict(response.json())


def stripe_post(fake: StripeFake, path: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    response = requests.post(fake.url + path, auth=(API_KEY, ""), data=data or {}, timeout=10)
    assert response.ok, response.text
    return dict(response.json())


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    account: str | None = None,
    livemode: bool = False,
    created: int | None = None,
) -> dict[str, Any]:
    """A Stripe event around an object, for cases the fake cannot play (disputes, edge times)."""
    built: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex[:20]}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()) if created is None else created,
        "livemode": livemode,
        "api_version": "2026-10-28",
        "data": {"object": obj},
    }
    if account:
        built["account"] = account
    return built


def raw(table_env: str, key: dict[str, str]) -> dict[str, Any] | None:
    return support.raw_item(table_env, key)


def query(table_env: str, key_name: str, key_value: str) -> list[dict[str, Any]]:
    response = boto3.client("dynamodb").query(
        TableName=os.environ[table_env],
        KeyConditionExpression="#k = :v",
        ExpressionAttributeNames={"#k": key_name},
        ExpressionAttributeValues={":v": {"S": key_value}},
        ConsistentRead=True,
    )
    return list(response["Items"])


def ledger_of(purchase_id: str) -> dict[str, int]:
    """The ledger lines of a purchase: id -> amount (the ids are deterministic)."""
    items = boto3.client("dynamodb").scan(
        TableName=os.environ["CREDIT_LEDGER_TABLE"],
        FilterExpression="purchaseId = :p",
        ExpressionAttributeValues={":p": {"S": purchase_id}},
    )["Items"]
    return {item["id"]["S"]: int(item["amount"]["N"]) for item in items}


@dataclass(frozen=True)
class Seller:
    user_id: str
    handle: str
    account_id: str
    track_id: str


def onboarded_artist(
    api: support.Api, fake: StripeFake, *, price: int = 1000, currency: str = "USD"
) -> Seller:
    """An artist who connected Stripe, finished onboarding (account.updated delivered) and set a price."""
    user = support.create_profile(api, artist=True)
    handle = api("GET", "/api/users/me", user=user)[1]["handle"]
    status, connected, _ = api("POST", "/api/studio/stripe/connect", user=user)
    assert status == 200, connected
    assert requests.get(connected["onboardingUrl"], allow_redirects=False, timeout=10).status_code == 302
    (updated,) = fake.events("account.updated", connected["accountId"])
    assert deliver(updated, connect=True)[0] == 200
    status, body, _ = api(
        "PUT", "/api/studio/collect-price", user=user, body={"amount": price, "currency": currency}
    )
    assert status == 200, body
    track = support.create_track(api, user)["track"]
    return Seller(user, handle, connected["accountId"], track["id"])


def fan(api: support.Api) -> str:
    return support.create_profile(api, artist=False)


def checkout(api: support.Api, buyer: str, seller: Seller, **fields: Any) -> dict[str, Any]:
    status, body, _ = api(
        "POST",
        "/api/checkout/payment-intent",
        user=buyer,
        body={"artistSlug": seller.handle, **fields.pop("body", {})},
        **fields,
    )
    assert status == 200, body
    return dict(body)


def pay(fake: StripeFake, payment_intent_id: str) -> dict[str, Any]:
    """What Stripe.js does with the client secret: attach a card and confirm. Returns the
    payment_intent.succeeded event the fake emitted."""
    stripe_post(fake, f"/v1/payment_intents/{payment_intent_id}", {"payment_method": "pm_card_visa"})
    assert stripe_post(fake, f"/v1/payment_intents/{payment_intent_id}/confirm")["status"] == "succeeded"
    (succeeded,) = fake.events("payment_intent.succeeded", payment_intent_id)
    return succeeded


def refund(fake: StripeFake, payment_intent_id: str, amount: int | None = None) -> dict[str, Any]:
    """Refund at the fake (as from the Dashboard); returns the newest charge.refunded event."""
    data: dict[str, Any] = {"payment_intent": payment_intent_id}
    if amount is not None:
        data["amount"] = amount
    created = stripe_post(fake, "/v1/refunds", data)
    return fake.events("charge.refunded", created["charge"])[-1]


def dispute_event(succeeded: dict[str, Any], status: str = "needs_response") -> dict[str, Any]:
    """charge.dispute.created, at the dispute's creation (the payment's second)."""
    return event("charge.dispute.created", _dispute(succeeded, status), created=int(succeeded["created"]))


def dispute_closed_event(succeeded: dict[str, Any], status: str, after_sec: int = 60) -> dict[str, Any]:
    """charge.dispute.closed for the same dispute as dispute_event's ("won", "lost", "warning_closed"),
    `after_sec` after the dispute was created."""
    created = int(succeeded["created"]) + after_sec
    return event("charge.dispute.closed", _dispute(succeeded, status), created=created)


def _dispute(succeeded: dict[str, Any], status: str) -> dict[str, Any]:
    # One dispute per charge, as Stripe does: the same id and creation time in its created and closed events.
    intent = succeeded["data"]["object"]
    charge = intent["latest_charge"]
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    return {
        "id": f"dp_{charge_id.removeprefix('ch_')}",
        "object": "dispute",
        "amount": intent["amount"],
        "currency": intent["currency"],
        "charge": charge_id,
        "payment_intent": intent["id"],
        "reason": "fraudulent",
        "status": status,
        "created": int(succeeded["created"]),
    }


def purchase(payment_intent_id: str) -> dict[str, Any] | None:
    return raw("PURCHASES_TABLE", {"id": payment_intent_id})


def real_payment_succeeded(fake_event: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    """The fake's payment_intent.succeeded rebuilt on Stripe's PaymentIntent: same ids, amounts and
    metadata (`metadata` written over it; None removes a key), `latest_charge` an unexpanded id and no
    `charges` list."""
    intent = fake_event["data"]["object"]
    charge = intent["latest_charge"]
    merged = {key: value for key, value in (intent["metadata"] | metadata).items() if value is not None}
    obj = stripe_object(
        "payment_intent",
        id=intent["id"],
        amount=intent["amount"],
        amount_received=intent["amount"],
        currency=intent["currency"],
        application_fee_amount=intent.get("application_fee_amount"),
        latest_charge=charge["id"] if isinstance(charge, dict) else charge,
        metadata=merged,
        status="succeeded",
        transfer_data={"destination": (intent.get("transfer_data") or {}).get("destination")},
        last_payment_error=None,
        next_action=None,
        canceled_at=None,
    )
    return stripe_event("payment_intent.succeeded", obj, created=int(fake_event["created"]))


def charge_id_of(fake_event: dict[str, Any]) -> str:
    charge = fake_event["data"]["object"]["latest_charge"]
    return str(charge["id"] if isinstance(charge, dict) else charge)
