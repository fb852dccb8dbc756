"""The webhooks meet the shapes Stripe really sends: events built on Stripe's own fixture objects
(fixtures3.json) with our ids, amounts and metadata, signed with stripe-python's header generator, sent
through the real webhook handlers on moto, with the Stripe fake answering the re-reads."""

import hashlib
import json
from typing import Any

import pytest

from infra.local.functions import LambdaContext
from infra.local.stripe_fake import StripeFake
from tests.integration import support
from tests.integration.commerce_support import (
    charge_id_of,
    checkout,
    deliver,
    fan,
    ledger_of,
    onboarded_artist,
    pay,
    purchase,
    query,
    raw,
    real_payment_succeeded,
    refund,
    stripe_get,
)
from tests.stripe_objects import ABSENT, stripe_event, stripe_object


def _entitled(api: support.Api, sale: dict[str, Any]) -> bool:
    status, body, _ = api("GET", f"/api/entitlements/{sale['seller'].user_id}", user=sale["buyer"])
    assert status == 200, body
    return bool(body["entitled"])


def _record(event_id: str) -> dict[str, Any]:
    return raw("WEBHOOK_EVENTS_TABLE", {"id": event_id}) or {}


def _dispute(sale: dict[str, Any], status: str, *, created: int | None = None) -> dict[str, Any]:
    """Stripe's dispute object for this sale's charge, `payment_intent` null as Stripe often sends it."""
    intent = sale["succeeded"]["data"]["object"]
    return stripe_object(
        "dispute",
        id=f"dp_{charge_id_of(sale['succeeded']).removeprefix('ch_')}",
        amount=intent["amount"],
        currency=intent["currency"],
        charge=charge_id_of(sale["succeeded"]),
        payment_intent=None,
        status=status,
        created=int(sale["succeeded"]["created"]) if created is None else created,
    )


# A signed body that is not an event, or not the shape a handler reads


def _without_data_object() -> dict[str, Any]:
    built = stripe_event("charge.refunded", {})
    built["data"] = {}
    return built


def _payment_without_amount() -> dict[str, Any]:
    return stripe_event("payment_intent.succeeded", stripe_object("payment_intent", amount=ABSENT))


def _payment_with_amount_as_text() -> dict[str, Any]:
    return stripe_event("payment_intent.succeeded", stripe_object("payment_intent", amount="1099"))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("[]", "NOT_AN_EVENT"),
        ("null", "NOT_AN_EVENT"),
        ('"evt_1"', "NOT_AN_EVENT"),
        ("42", "NOT_AN_EVENT"),
        (_without_data_object, "MALFORMED_EVENT"),
        (_payment_without_amount, "MALFORMED_OBJECT"),
        (_payment_with_amount_as_text, "MALFORMED_OBJECT"),
    ],
    ids=["list", "null", "string", "number", "no-data-object", "no-amount", "amount-as-text"],
)
def test_a_signed_body_that_is_not_what_we_read_is_400_rejected_and_never_retried(
    stripe: StripeFake, body: Any, reason: str
) -> None:
    """Given a body signed by Stripe that is not an event, or an event whose object lacks a field the
    handler reads: 400 MALFORMED_EVENT naming the reason, recorded REJECTED (not FAILED), and a
    redelivery gets the same answer without processing anything."""
    delivered = body() if callable(body) else body
    payload = delivered if isinstance(delivered, str) else json.dumps(delivered)
    status, answer = deliver(payload)
    assert (status, answer["code"]) == (400, "MALFORMED_EVENT"), answer
    assert answer["details"][0]["reason"] == reason
    record_id = (
        delivered["id"]
        if isinstance(delivered, dict)
        else "unidentified-" + hashlib.sha256(payload.encode()).hexdigest()[:40]
    )
    record = _record(record_id)
    assert (record["status"]["S"], record["outcome"]["S"]) == ("REJECTED", reason)
    assert deliver(payload)[1]["code"] == "MALFORMED_EVENT"
    again = _record(record_id)
    assert (again["status"]["S"], again["deliveries"]["N"]) == ("REJECTED", "2")
    if isinstance(delivered, dict) and "id" in delivered["data"].get("object", {}):
        assert purchase(delivered["data"]["object"]["id"]) is None


# Metadata the platform did not write


@pytest.mark.parametrize(
    ("metadata", "dropped"),
    [
        (
            {
                "cassetReferralCode": "abc123",
                "cassetReferrerId": "u1",
                "cassetReferralClickedAt": "yesterday",
            },
            "cassetReferralClickedAt is not a whole number of seconds",
        ),
        (
            {"cassetReferralCode": "abc123", "cassetReferrerId": "u1", "cassetReferralClickedAt": "1.7e9"},
            "cassetReferralClickedAt is not a whole number of seconds",
        ),
        ({"cassetReferralCode": "abc123"}, "cassetReferrerId, cassetReferralClickedAt missing"),
        (
            {"cassetReferralCode": "nosuchcode", "cassetReferrerId": "u1", "cassetReferralClickedAt": "1"},
            "cassetReferralCode is not a referral link",
        ),
    ],
    ids=["clicked-at-words", "clicked-at-float", "incomplete", "unknown-code"],
)
def test_referral_metadata_we_did_not_write_drops_the_referral_and_the_payment_still_grants(
    api: support.Api, sale: dict[str, Any], metadata: dict[str, str], dropped: str
) -> None:
    """Given a Dashboard edit of the PaymentIntent's metadata (a bad referral field, an unknown key):
    the fan is granted, the referral is dropped and the reason recorded on the purchase and the event."""
    edited = real_payment_succeeded(sale["succeeded"], **metadata, internalNote="edited in the Dashboard")
    status, body = deliver(edited)
    assert status == 200, body
    assert body["outcome"].startswith("GRANTED; REFERRAL_DROPPED: ") and dropped in body["outcome"]
    assert _entitled(api, sale)
    stored = purchase(sale["intent"]) or {}
    assert dropped in stored["referralDropped"]["S"] and "referralCode" not in stored
    assert ledger_of(sale["intent"]) == {f"{sale['intent']}:artist-earning": 900}
    assert raw("REFERRAL_ATTRIBUTIONS_TABLE", {"purchaseId": sale["intent"]}) is None
    assert dropped in _record(edited["id"])["outcome"]["S"]


def test_a_payment_without_our_buyer_is_recorded_as_not_ours(sale: dict[str, Any]) -> None:
    edited = real_payment_succeeded(sale["succeeded"], cassetBuyerId=None)
    assert deliver(edited)[1]["outcome"] == "NOT_A_CASSET_PAYMENT"
    assert purchase(sale["intent"]) is None


# payment_intent null, transfer absent


def test_a_refund_whose_charge_has_no_payment_intent_nor_transfer_still_refunds_and_reverses(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    """Given Stripe's charge object with `payment_intent: null` and no `transfer`: the purchase is found
    by the charge id stored with it, and the transfer from the charge re-read at Stripe."""
    intent = sale["intent"]
    assert deliver(real_payment_succeeded(sale["succeeded"]))[1]["outcome"] == "GRANTED"
    refund(stripe, intent)  # at Stripe; its own event is not delivered
    charge_id = charge_id_of(sale["succeeded"])
    refunded = stripe_object(
        "charge",
        id=charge_id,
        amount=1000,
        amount_captured=1000,
        amount_refunded=1000,
        refunded=True,
        payment_intent=None,
        transfer=ABSENT,
        metadata={},
    )
    status, body = deliver(stripe_event("charge.refunded", refunded))
    assert (status, body["outcome"]) == (200, "REFUNDED"), body
    assert not _entitled(api, sale)
    assert ledger_of(intent) == {f"{intent}:artist-earning": 900, f"{intent}:artist-earning:reversal": -900}
    transfer = stripe_get(stripe, f"/v1/charges/{charge_id}")["transfer"]
    assert stripe_get(stripe, f"/v1/transfers/{transfer}")["amount_reversed"] == 900


def test_a_refund_arriving_before_its_payment_finds_the_purchase_from_the_charge_at_stripe(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any]
) -> None:
    refund(stripe, sale["intent"])
    refunded = stripe_object(
        "charge",
        id=charge_id_of(sale["succeeded"]),
        amount=1000,
        amount_refunded=1000,
        refunded=True,
        payment_intent=None,
        transfer=ABSENT,
    )
    assert deliver(stripe_event("charge.refunded", refunded))[1]["outcome"] == "RECORDED_FOR_UNKNOWN_PURCHASE"
    assert deliver(real_payment_succeeded(sale["succeeded"]))[1]["outcome"] == "REFUNDED"
    assert not _entitled(api, sale)


def test_a_dispute_without_payment_intent_finds_the_purchase_by_its_charge(
    api: support.Api, sale: dict[str, Any]
) -> None:
    deliver(real_payment_succeeded(sale["succeeded"]))
    status, body = deliver(stripe_event("charge.dispute.created", _dispute(sale, "needs_response")))
    assert (status, body["outcome"]) == (200, "DISPUTED"), body
    assert not _entitled(api, sale)
    assert (purchase(sale["intent"]) or {})["payoutState"]["S"] == "FROZEN"


def test_a_charge_we_never_sold_is_not_ours(stripe: StripeFake) -> None:
    foreign = stripe_object("charge", id="ch_nobody_sold", payment_intent=None, transfer=ABSENT)
    assert deliver(stripe_event("charge.refunded", foreign))[1]["outcome"] == "NOT_A_PAYMENT_INTENT_CHARGE"


# Dispute statuses


def _notes(api: support.Api, sale: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The sale's notifications to the artist as (id without its time, kind, message), the purchase id
    and the buyer's handle written as PI and FAN, so two sales compare."""
    handle = (purchase(sale["intent"]) or {})["buyerHandle"]["S"]
    items = query("NOTIFICATIONS_TABLE", "userId", sale["seller"].user_id)
    return sorted(
        (
            item["id"]["S"].split("#", 1)[1].replace(sale["intent"], "PI"),
            item["kind"]["S"],
            item["message"]["S"].replace(handle, "FAN"),
        )
        for item in items
        if item.get("purchaseId", {}).get("S") == sale["intent"]
    )


def test_an_inquiry_is_not_a_chargeback_and_access_stays(api: support.Api, sale: dict[str, Any]) -> None:
    """Given Stripe's own dispute fixture (status warning_needs_response, an inquiry): access, payout
    and the artist's earning stay; the artist is told it is an inquiry."""
    deliver(real_payment_succeeded(sale["succeeded"]))
    inquiry = _dispute(sale, "warning_needs_response")
    assert deliver(stripe_event("charge.dispute.created", inquiry))[1]["outcome"] == "GRANTED"
    assert _entitled(api, sale)
    assert (purchase(sale["intent"]) or {})["payoutState"]["S"] == "PENDING"
    under_review = inquiry | {"status": "warning_under_review"}
    assert deliver(stripe_event("charge.dispute.created", under_review))[1]["outcome"] == "GRANTED"
    closed = stripe_event("charge.dispute.closed", inquiry | {"status": "warning_closed"})
    assert deliver(closed)[1]["outcome"] == "GRANTED"
    kinds = sorted(kind for _, kind, _ in _notes(api, sale))
    assert kinds == ["COLLECT", "DISPUTE_CLOSED", "DISPUTE_INQUIRY"]


def test_an_inquiry_that_escalates_to_a_chargeback_stops_access(
    api: support.Api, sale: dict[str, Any]
) -> None:
    deliver(real_payment_succeeded(sale["succeeded"]))
    opened = int(sale["succeeded"]["created"])
    inquiry = _dispute(sale, "warning_needs_response")
    assert deliver(stripe_event("charge.dispute.created", inquiry, created=opened))[1]["outcome"] == "GRANTED"
    escalated = stripe_event(
        "charge.dispute.updated", inquiry | {"status": "needs_response"}, created=opened + 60
    )
    assert deliver(escalated)[1]["outcome"] == "DISPUTED"
    assert not _entitled(api, sale)
    assert sorted(kind for _, kind, _ in _notes(api, sale)) == ["COLLECT", "DISPUTE", "DISPUTE_INQUIRY"]


def _appealed_dispute(sale: dict[str, Any]) -> list[dict[str, Any]]:
    """A dispute opened, lost, then (appealed) won: three events a minute apart."""
    opened = int(sale["succeeded"]["created"])
    return [
        stripe_event("charge.dispute.created", _dispute(sale, "needs_response"), created=opened),
        stripe_event("charge.dispute.closed", _dispute(sale, "lost"), created=opened + 60),
        stripe_event("charge.dispute.closed", _dispute(sale, "won"), created=opened + 120),
    ]


def test_a_dispute_whose_status_moves_ends_by_the_latest_and_tells_the_same_in_any_order(
    api: support.Api, stripe: StripeFake
) -> None:
    """Given a dispute lost and then won on appeal, delivered in order for one sale and newest first for
    another: both end GRANTED, and the artist's notifications read the same."""
    seller = onboarded_artist(api, stripe)
    results = []
    for order in ([0, 1, 2], [2, 1, 0]):
        buyer = fan(api)
        intent = checkout(api, buyer, seller)["paymentIntentId"]
        sale = {"seller": seller, "buyer": buyer, "intent": intent, "succeeded": pay(stripe, intent)}
        deliver(real_payment_succeeded(sale["succeeded"]))
        events = _appealed_dispute(sale)
        for index in order:
            assert deliver(events[index])[0] == 200
        stored = purchase(intent) or {}
        results.append(
            (stored["state"]["S"], stored["payoutState"]["S"], _entitled(api, sale), _notes(api, sale))
        )
        assert ledger_of(intent) == {f"{intent}:artist-earning": 900}
    in_order, newest_first = results
    assert in_order == newest_first
    assert in_order[:3] == ("GRANTED", "PENDING", True)
    closed = [text for _, kind, text in in_order[3] if kind == "DISPUTE_CLOSED"]
    assert [text.split(":")[0] for text in closed] == [
        "The dispute on @FAN's payment was lost",
        "The dispute on @FAN's payment was won",
    ]


def test_a_status_that_comes_back_later_is_the_one_that_counts(
    api: support.Api, sale: dict[str, Any]
) -> None:
    """Given a dispute won and then reopened on appeal (needs_response, under_review, won, under_review):
    the purchase is disputed again; access off, payout held; won once more, it is granted."""
    deliver(real_payment_succeeded(sale["succeeded"]))
    opened = int(sale["succeeded"]["created"])
    moves = [("created", "needs_response", 0), ("updated", "under_review", 60), ("closed", "won", 120)]
    for kind, status, after in [*moves, ("updated", "under_review", 300)]:
        assert (
            deliver(stripe_event(f"charge.dispute.{kind}", _dispute(sale, status), created=opened + after))[0]
            == 200
        )
    stored = purchase(sale["intent"]) or {}
    assert (stored["state"]["S"], stored["payoutState"]["S"]) == ("DISPUTED", "FROZEN")
    assert not _entitled(api, sale)
    won_again = stripe_event("charge.dispute.closed", _dispute(sale, "won"), created=opened + 600)
    assert deliver(won_again)[1]["outcome"] == "GRANTED"
    assert _entitled(api, sale)


def test_a_prevented_dispute_keeps_access_and_payout(api: support.Api, sale: dict[str, Any]) -> None:
    """Given a dispute stopped before it was filed (status prevented, e.g. Visa RDR): no chargeback,
    so access and payout stay, and the artist is told it was stopped, not that a payout is on hold."""
    deliver(real_payment_succeeded(sale["succeeded"]))
    prevented = stripe_event("charge.dispute.closed", _dispute(sale, "prevented"))
    assert deliver(prevented)[1]["outcome"] == "GRANTED"
    assert _entitled(api, sale)
    assert (purchase(sale["intent"]) or {})["payoutState"]["S"] == "PENDING"
    notes = [(kind, text) for _, kind, text in _notes(api, sale)]
    assert [kind for kind, _ in notes] == ["COLLECT", "DISPUTE_CLOSED"]
    assert "stopped before it became a chargeback" in notes[1][1]


def test_an_unknown_dispute_status_is_recorded_and_freezes_nothing(
    api: support.Api, sale: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a dispute status the rules do not know: recorded, counted for the alarm
    (StripeDisputeStatusUnknown), and the granted purchase stays granted."""
    deliver(real_payment_succeeded(sale["succeeded"]))
    unknown = stripe_event("charge.dispute.updated", _dispute(sale, "escalated_somehow"))
    capsys.readouterr()
    status, body = deliver(unknown)
    assert (status, body["status"], body["outcome"]) == (200, "PROCESSED", "DISPUTE_STATUS_UNKNOWN")
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(metrics.get("StripeDisputeStatusUnknown") == [1.0] for metrics in emitted), emitted
    assert _record(unknown["id"])["outcome"]["S"] == "DISPUTE_STATUS_UNKNOWN"
    stored = purchase(sale["intent"]) or {}
    assert (stored["state"]["S"], stored["payoutState"]["S"]) == ("GRANTED", "PENDING")
    assert any(seen.endswith("#escalated_somehow") for seen in stored["disputeStatuses"]["SS"])
    assert _entitled(api, sale)
    assert [kind for _, kind, _ in _notes(api, sale)] == ["COLLECT"]


# One allowlist per endpoint


def test_a_connect_signed_payment_is_ignored_and_grants_nothing(
    api: support.Api, sale: dict[str, Any]
) -> None:
    connected = real_payment_succeeded(sale["succeeded"]) | {"account": sale["seller"].account_id}
    status, body = deliver(connected, connect=True)
    assert (status, body["status"], body["outcome"]) == (200, "IGNORED", "NOT_FOR_THIS_ENDPOINT")
    assert purchase(sale["intent"]) is None and not _entitled(api, sale)


def test_a_platform_signed_account_updated_is_ignored_and_keeps_onboarding(
    api: support.Api, stripe: StripeFake
) -> None:
    seller = onboarded_artist(api, stripe)
    incomplete = stripe_object("account", id=seller.account_id, charges_enabled=False, payouts_enabled=False)
    status, body = deliver(stripe_event("account.updated", incomplete, account=seller.account_id))
    assert (status, body["status"], body["outcome"]) == (200, "IGNORED", "NOT_FOR_THIS_ENDPOINT")
    assert api("GET", "/api/users/me", user=seller.user_id)[1]["stripeOnboardingComplete"] is True


def test_connect_events_must_carry_an_account_and_platform_events_must_not(
    api: support.Api, sale: dict[str, Any]
) -> None:
    payout = stripe_event("payout.paid", stripe_object("payout", status="paid"))
    assert deliver(payout, connect=True)[1]["outcome"] == "CONNECT_EVENT_WITHOUT_ACCOUNT"
    on_behalf = real_payment_succeeded(sale["succeeded"]) | {"account": "acct_someone"}
    status, body = deliver(on_behalf)
    assert (status, body["status"], body["outcome"]) == (
        200,
        "IGNORED",
        "CONNECTED_ACCOUNT_EVENT_ON_PLATFORM",
    )
    assert purchase(sale["intent"]) is None
    assert _record(on_behalf["id"])["status"]["S"] == "IGNORED"


# The reconciliation sweep


def test_the_sweep_goes_past_a_failing_event_and_still_fails_the_run(
    api: support.Api, stripe: StripeFake, sale: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given three undelivered events, the first failing (Stripe refuses its re-read) and the second
    malformed: the third is still processed, the malformed one is REJECTED (not a failure), the failing
    one stays FAILED for the next run, and the run fails so the alarm sees it."""
    from casset.data import stripe_api
    from webhooks.reconcile import ReconcileFailed, lambda_handler

    failing = stripe_event(
        "charge.refunded",
        stripe_object("charge", id="ch_gone", amount=1000, payment_intent="pi_gone", transfer=ABSENT),
    )
    malformed = stripe_event("charge.refunded", stripe_object("charge", id="ch_x", amount=ABSENT))
    good = real_payment_succeeded(sale["succeeded"])
    listed = {None: [failing, malformed, good]}
    monkeypatch.setattr(stripe_api, "undelivered_events", lambda since, account=None: listed.get(account, []))
    with pytest.raises(ReconcileFailed, match="1 of 3 failed: " + failing["id"]):
        lambda_handler({}, LambdaContext("reconcile", 512, 300))
    assert _entitled(api, sale)
    assert _record(good["id"])["status"]["S"] == "PROCESSED"
    assert _record(malformed["id"])["status"]["S"] == "REJECTED"
    assert _record(failing["id"])["status"]["S"] == "FAILED"


# A connected account's listing in the sweep


def _account_updated(stripe: StripeFake, account_id: str) -> dict[str, Any]:
    """account.updated for this account as Stripe delivers it to the Connect endpoint (`account` set)."""
    obj = stripe_get(stripe, f"/v1/accounts/{account_id}")
    return stripe_event("account.updated", obj) | {"account": account_id}


def _sweep(monkeypatch: pytest.MonkeyPatch, listed: dict[str | None, list[dict[str, Any]]]) -> dict[str, Any]:
    from casset.data import stripe_api
    from webhooks.reconcile import lambda_handler

    monkeypatch.setattr(stripe_api, "undelivered_events", lambda since, account=None: listed.get(account, []))
    return dict(lambda_handler({}, LambdaContext("reconcile", 512, 300)))


def test_a_connected_accounts_listed_event_without_account_is_that_accounts(
    api: support.Api, stripe: StripeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a connected account's listing whose event leaves `account` out: the sweep processes it as
    that account's (not IGNORED for good), so the real delivery later is a duplicate of a processed event."""
    seller = onboarded_artist(api, stripe)
    delivered = _account_updated(stripe, seller.account_id)
    listed = {key: value for key, value in delivered.items() if key != "account"}
    assert _sweep(monkeypatch, {seller.account_id: [listed]})["counts"] == {"PROCESSED": 1}
    record = _record(delivered["id"])
    assert (record["status"]["S"], record["account"]["S"]) == ("PROCESSED", seller.account_id)
    assert record["outcome"]["S"] == "ONBOARDING_COMPLETE"
    assert deliver(delivered, connect=True)[1]["status"] == "DUPLICATE"


def test_a_listed_event_naming_another_account_is_refused_and_recorded_nowhere(
    api: support.Api, stripe: StripeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    seller, other = onboarded_artist(api, stripe), onboarded_artist(api, stripe)
    foreign = _account_updated(stripe, other.account_id)
    assert _sweep(monkeypatch, {seller.account_id: [foreign]})["counts"] == {"REJECTED": 1}
    assert _record(foreign["id"]) == {}
    # Its own delivery is still processed.
    assert deliver(foreign, connect=True)[1]["status"] == "PROCESSED"


def test_an_event_ignored_for_how_it_arrived_is_processed_when_it_arrives_properly(
    api: support.Api, stripe: StripeFake
) -> None:
    """Ignored without its `account` at the Connect endpoint, or signed for the platform endpoint: the
    same event delivered properly afterwards is processed, not a duplicate."""
    seller = onboarded_artist(api, stripe)
    proper = _account_updated(stripe, seller.account_id)
    without_account = {key: value for key, value in proper.items() if key != "account"}
    assert deliver(without_account, connect=True)[1]["outcome"] == "CONNECT_EVENT_WITHOUT_ACCOUNT"
    assert deliver(proper)[1]["outcome"] == "NOT_FOR_THIS_ENDPOINT"
    status, body = deliver(proper, connect=True)
    assert (status, body["status"], body["outcome"]) == (200, "PROCESSED", "ONBOARDING_COMPLETE")
    record = _record(proper["id"])
    assert (record["endpoint"]["S"], record["account"]["S"]) == ("connect", seller.account_id)
    assert int(record["deliveries"]["N"]) == 3
    assert deliver(proper, connect=True)[1]["status"] == "DUPLICATE"
