"""The webhook endpoints: verification before storage, dedupe, every event type's effect, concurrency and
the reconciliation job. Payments are made at the Stripe fake; its events are delivered to the real
webhook handlers with Stripe's signature scheme."""

import threading
import time
from datetime import timedelta
from typing import Any

import boto3
import pytest

from infra.local.stripe_fake import StripeFake
from tests.integration import support
from tests.integration.commerce_support import (
    CONNECT_SECRET,
    deliver,
    dispute_closed_event,
    dispute_event,
    event,
    ledger_of,
    purchase,
    query,
    raw,
    refund,
    reset_caches,
    stripe_post,
)


def _entitled(api: support.Api, sale: dict[str, Any]) -> bool:
    status, body, _ = api("GET", f"/api/entitlements/{sale['seller'].user_id}", user=sale["buyer"])
    assert status == 200, body
    return bool(body["entitled"])


def _stored(event_id: str) -> dict[str, Any] | None:
    return raw("WEBHOOK_EVENTS_TABLE", {"id": event_id})


# Verification


def test_missing_wrong_or_expired_signatures_are_400_and_store_nothing(sale: dict[str, Any]) -> None:
    succeeded = sale["succeeded"]
    assert deliver(succeeded, signed=False) == (400, deliver(succeeded, signed=False)[1])
    assert deliver(succeeded, signed=False)[1]["code"] == "INVALID_SIGNATURE"
    assert deliver(succeeded, secret="whsec_someone_else")[0] == 400
    assert deliver(succeeded, secret=CONNECT_SECRET)[0] == 400  # the other endpoint's secret
    assert deliver(succeeded, timestamp=int(time.time()) - 301)[0] == 400
    tampered = succeeded | {"data": {"object": succeeded["data"]["object"] | {"amount": 1}}}
    import json

    header_for_original = deliver  # the signature below is over the original body
    payload = json.dumps(succeeded)
    from infra.local.functions import LambdaContext
    from tests.conftest import http_event
    from tests.integration.commerce_support import PLATFORM_SECRET, signature
    from webhooks.handler import platform_handler

    forged = http_event(
        "POST",
        "/api/webhooks/stripe",
        headers={"stripe-signature": signature(payload, PLATFORM_SECRET)},
        raw_body=json.dumps(tampered),
    )
    assert platform_handler(forged, LambdaContext("w", 512, 30))["statusCode"] == 400
    assert header_for_original and _stored(succeeded["id"]) is None
    assert purchase(sale["intent"]) is None


def test_a_missing_signing_secret_fails_closed(sale: dict[str, Any], settings_env: Any) -> None:
    boto3.client("ssm").delete_parameter(Name="/casset/local/stripe/webhook-secret")
    reset_caches()
    try:
        status, body = deliver(sale["succeeded"])
        assert (status, body["code"]) == (503, "PAYMENTS_UNAVAILABLE")
        assert _stored(sale["succeeded"]["id"]) is None
    finally:
        boto3.client("ssm").put_parameter(
            Name="/casset/local/stripe/webhook-secret",
            Value="whsec_casset_local_platform",
            Type="SecureString",
        )
        reset_caches()


def test_a_base64_body_from_api_gateway_is_verified_as_sent(api: support.Api, sale: dict[str, Any]) -> None:
    status, body = deliver(sale["succeeded"], base64_body=True)
    assert (status, body["outcome"]) == (200, "GRANTED")


def test_an_event_from_the_other_mode_is_ignored(api: support.Api, sale: dict[str, Any]) -> None:
    live = sale["succeeded"] | {"livemode": True}
    status, body = deliver(live)
    assert (status, body["status"], body["outcome"]) == (200, "IGNORED", "LIVEMODE_MISMATCH")
    assert purchase(sale["intent"]) is None
    assert not _entitled(api, sale)


def test_unknown_event_types_answer_200_and_are_recorded(stripe: StripeFake) -> None:
    unknown = event("customer.created", {"id": "cus_1", "object": "customer"})
    status, body = deliver(unknown)
    assert (status, body["status"], body["outcome"]) == (200, "IGNORED", "UNHANDLED_TYPE")
    assert _stored(unknown["id"])["status"]["S"] == "IGNORED"  # type: ignore[index]


# Effects


def test_payment_succeeded_grants_once_with_activity_notification_and_ledger(
    api: support.Api, sale: dict[str, Any]
) -> None:
    seller, intent = sale["seller"], sale["intent"]
    assert not _entitled(api, sale)
    first = deliver(sale["succeeded"])
    again = deliver(sale["succeeded"])
    assert first[0] == again[0] == 200
    assert (first[1]["status"], again[1]["status"]) == ("PROCESSED", "DUPLICATE")
    assert _stored(sale["succeeded"]["id"])["deliveries"]["N"] == "2"  # type: ignore[index]
    assert _entitled(api, sale)
    stored = purchase(intent)
    assert stored and stored["state"]["S"] == "GRANTED" and stored["payoutState"]["S"] == "PENDING"
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900}
    feed = api("GET", f"/api/artists/{seller.user_id}/activity")[1]["items"]
    assert [item["kind"] for item in feed] == ["COLLECT"] and feed[0]["message"].endswith("collected")
    bell = api("GET", "/api/notifications", user=seller.user_id)[1]
    assert bell["unread"] == 1 and bell["items"][0]["kind"] == "COLLECT"


def test_a_full_refund_revokes_at_once_reverses_the_ledger_and_the_transfer(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    intent = sale["intent"]
    deliver(sale["succeeded"])
    refunded = refund(stripe, intent)
    status, body = deliver(refunded)
    assert (status, body["outcome"]) == (200, "REFUNDED")
    assert not _entitled(api, sale)
    stored = purchase(intent)
    assert stored and stored["payoutState"]["S"] == "CANCELLED"
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900, f"{intent}:artist-earning:reversal": -900}
    charge = refunded["data"]["object"]
    transfer = stripe_post(stripe, f"/v1/charges/{charge['id']}", {"metadata[checked]": "1"})["transfer"]
    from tests.integration.commerce_support import stripe_get

    assert stripe_get(stripe, f"/v1/transfers/{transfer}")["amount_reversed"] == 900
    # Redelivering the refund reverses nothing more.
    deliver(refunded | {"id": refunded["id"] + "x"})
    assert stripe_get(stripe, f"/v1/transfers/{transfer}")["amount_reversed"] == 900


def test_a_partial_refund_is_recorded_without_revoking(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    intent = sale["intent"]
    deliver(sale["succeeded"])
    status, body = deliver(refund(stripe, intent, amount=300))
    assert (status, body["outcome"]) == (200, "GRANTED")
    assert _entitled(api, sale)
    stored = purchase(intent)
    assert stored and stored["amountRefunded"]["N"] == "300"
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900}


def test_a_dispute_revokes_notifies_and_freezes_the_payout(api: support.Api, sale: dict[str, Any]) -> None:
    intent, seller = sale["intent"], sale["seller"]
    deliver(sale["succeeded"])
    status, body = deliver(dispute_event(sale["succeeded"]))
    assert (status, body["outcome"]) == (200, "DISPUTED")
    assert not _entitled(api, sale)
    assert purchase(intent)["payoutState"]["S"] == "FROZEN"  # type: ignore[index]
    kinds = [item["kind"] for item in api("GET", "/api/notifications", user=seller.user_id)[1]["items"]]
    assert sorted(kinds) == ["COLLECT", "DISPUTE"]


@pytest.mark.parametrize(
    ("opened", "status", "outcome", "entitled", "payout", "notices", "message"),
    [
        ("needs_response", "won", "GRANTED", True, "PENDING", "DISPUTE", "was won: the hold on access"),
        (
            "warning_needs_response",
            "warning_closed",
            "GRANTED",
            True,
            "PENDING",
            "DISPUTE_INQUIRY",
            "closed without a chargeback.",
        ),
        ("needs_response", "lost", "DISPUTED", False, "FROZEN", "DISPUTE", "was lost"),
    ],
)
def test_a_closed_dispute_restores_or_keeps_the_freeze_and_tells_the_artist(
    api: support.Api,
    sale: dict[str, Any],
    opened: str,
    status: str,
    outcome: str,
    entitled: bool,
    payout: str,
    notices: str,
    message: str,
) -> None:
    intent, seller = sale["intent"], sale["seller"]
    deliver(sale["succeeded"])
    deliver(dispute_event(sale["succeeded"], opened))
    closed = dispute_closed_event(sale["succeeded"], status)
    assert deliver(closed)[1]["outcome"] == outcome
    assert deliver(closed)[1]["status"] == "DUPLICATE"
    assert deliver(dispute_closed_event(sale["succeeded"], status))[1]["outcome"] == outcome  # a new event id
    assert _entitled(api, sale) is entitled
    stored = purchase(intent) or {}
    assert (stored["state"]["S"], stored["payoutState"]["S"]) == (outcome, payout)
    assert sorted(seen.split("#")[1] for seen in stored["disputeStatuses"]["SS"]) == sorted([opened, status])
    items = api("GET", "/api/notifications", user=seller.user_id)[1]["items"]
    assert sorted(item["kind"] for item in items) == sorted(["COLLECT", notices, "DISPUTE_CLOSED"])
    (closed_note,) = [item["message"] for item in items if item["kind"] == "DISPUTE_CLOSED"]
    assert message in closed_note and f"@{stored['buyerHandle']['S']}" in closed_note
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900}  # no transfer reversal is automated


def test_payout_paid_settles_the_purchases_it_carried(stripe: StripeFake, sale: dict[str, Any]) -> None:
    deliver(sale["succeeded"])
    account = sale["seller"].account_id
    stripe_post(stripe, f"/_config/accounts/{account}/payouts")
    (paid,) = [e for e in _connect_events(stripe, account) if e["type"] == "payout.paid"]
    status, body = deliver(paid, connect=True)
    assert (status, body["outcome"]) == (200, "SETTLED 1 OF 1")
    stored = purchase(sale["intent"])
    assert (
        stored
        and stored["payoutState"]["S"] == "SETTLED"
        and stored["paidOutBy"]["S"] == paid["data"]["object"]["id"]
    )


def _connect_events(fake: StripeFake, account: str) -> list[dict[str, Any]]:
    from tests.integration.commerce_support import stripe_get

    return list(stripe_get(fake, "/v1/events?limit=100", account=account)["data"])


def test_a_refund_for_an_unknown_purchase_is_recorded_and_grants_nothing(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    refunded = refund(stripe, sale["intent"])  # the succeeded event never arrived
    status, body = deliver(refunded)
    assert (status, body["outcome"]) == (200, "RECORDED_FOR_UNKNOWN_PURCHASE")
    assert not _entitled(api, sale)
    assert ledger_of(sale["intent"]) == {}
    # When the payment's own event arrives later, the purchase lands refunded, never entitled.
    assert deliver(sale["succeeded"])[1]["outcome"] == "REFUNDED"
    assert not _entitled(api, sale)


def test_a_payment_that_is_not_ours_is_ignored(stripe: StripeFake) -> None:
    foreign = event(
        "payment_intent.succeeded",
        {"id": "pi_foreign", "object": "payment_intent", "amount": 100, "currency": "usd", "metadata": {}},
    )
    assert deliver(foreign)[1]["outcome"] == "NOT_A_CASSET_PAYMENT"
    assert purchase("pi_foreign") is None


# Concurrency


def _warm_up() -> None:
    # A Lambda container handles one request at a time; these threads share one process, so its lazily
    # built SDK clients and the cached secret are made once before they start.
    deliver(event("customer.created", {"id": "cus_warm", "object": "customer"}))


def test_concurrent_duplicate_deliveries_produce_one_effect(
    api: support.Api, sale: dict[str, Any], atomic_dynamodb: None
) -> None:
    _warm_up()
    results: list[int] = []
    barrier = threading.Barrier(6)

    def deliver_once() -> None:
        barrier.wait()
        results.append(deliver(sale["succeeded"])[0])

    threads = [threading.Thread(target=deliver_once) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(results) <= {200, 409} and 200 in results
    intent = sale["intent"]
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900}
    assert len(query("ACTIVITY_TABLE", "artistId", sale["seller"].user_id)) == 1
    bell = {item["id"]["S"]: item for item in query("NOTIFICATIONS_TABLE", "userId", sale["seller"].user_id)}
    counter = bell.pop("~unread")  # the unread counter, written in the same transactions
    assert len(bell) == 1 and counter["unread"] == {"N": "1"}


def test_refund_and_payment_racing_each_other_converge(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any], atomic_dynamodb: None
) -> None:
    refunded = refund(stripe, sale["intent"])
    _warm_up()
    answers: list[tuple[int, dict[str, Any]]] = []
    threads = [
        threading.Thread(target=lambda e=e: answers.append(deliver(e))) for e in (sale["succeeded"], refunded)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _ in answers] == [200, 200], answers
    intent = sale["intent"]
    assert purchase(intent)["state"]["S"] == "REFUNDED"  # type: ignore[index]
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900, f"{intent}:artist-earning:reversal": -900}


# Reconciliation


def test_reconciliation_processes_undelivered_events_through_the_same_path(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    from infra.local.functions import LambdaContext
    from webhooks.reconcile import lambda_handler

    stripe.mark_undelivered(sale["succeeded"]["id"])
    result = lambda_handler({}, LambdaContext("reconcile", 512, 300))
    assert result["counts"].get("PROCESSED", 0) >= 1
    assert _entitled(api, sale)
    again = lambda_handler({}, LambdaContext("reconcile", 512, 300))
    assert again["counts"].get("PROCESSED", 0) == 0  # already processed: duplicates now
    assert timedelta(days=3)  # the window the job asks Stripe about (settings.stripe_reconcile_days)
