"""Stripe does not promise delivery order. Property: every order of one payment's events (succeeded, a
partial refund, the refund that completes it, a dispute and its close as won), with duplicates, ends in
the same state: the purchase, its ledger lines, notifications, activity, entitlement and the transfer
reversed at Stripe."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.local.stripe_fake import StripeFake
from tests.integration import support
from tests.integration.commerce_support import (
    Seller,
    checkout,
    deliver,
    dispute_closed_event,
    dispute_event,
    fan,
    ledger_of,
    onboarded_artist,
    pay,
    purchase,
    query,
    refund,
    stripe_get,
)

EXPECTED = {
    "state": "REFUNDED",
    "payout": "CANCELLED",
    "ledger": {"artist-earning": 900, "artist-earning:reversal": -900},
    "notifications": ["COLLECT", "DISPUTE", "DISPUTE_CLOSED"],
    "activity": ["COLLECT"],
    "entitled": False,
    "reversed": 900,
}


@pytest.fixture(scope="module")
def seller(aws: Any, stripe: StripeFake) -> Seller:
    from tests.conftest import Api

    return onboarded_artist(Api(), stripe)


def _payment_events(
    api: support.Api, fake: StripeFake, seller: Seller
) -> tuple[str, str, list[dict[str, Any]]]:
    buyer = fan(api)
    intent = checkout(api, buyer, seller)["paymentIntentId"]
    succeeded = pay(fake, intent)
    partial = refund(fake, intent, amount=300)
    completed = refund(fake, intent, amount=700)
    assert (partial["data"]["object"]["amount_refunded"], completed["data"]["object"]["amount_refunded"]) == (
        300,
        1000,
    )
    closed = dispute_closed_event(succeeded, "won")  # won, but the full refund still ends the purchase
    return buyer, intent, [succeeded, partial, completed, dispute_event(succeeded), closed]


def _final_state(
    api: support.Api, fake: StripeFake, seller: Seller, buyer: str, intent: str
) -> dict[str, Any]:
    stored = purchase(intent) or {}
    charge = stripe_get(fake, f"/v1/payment_intents/{intent}")["latest_charge"]
    charge_id = charge["id"] if isinstance(charge, dict) else charge
    transfer = stripe_get(fake, f"/v1/charges/{charge_id}")["transfer"]
    mine = lambda items: sorted(i["kind"]["S"] for i in items if i.get("purchaseId", {}).get("S") == intent)  # noqa: E731
    return {
        "state": stored.get("state", {}).get("S"),
        "payout": stored.get("payoutState", {}).get("S"),
        "ledger": {key.removeprefix(f"{intent}:"): amount for key, amount in ledger_of(intent).items()},
        "notifications": mine(query("NOTIFICATIONS_TABLE", "userId", seller.user_id)),
        "activity": mine(query("ACTIVITY_TABLE", "artistId", seller.user_id)),
        "entitled": api("GET", f"/api/entitlements/{seller.user_id}", user=buyer)[1]["entitled"],
        "reversed": stripe_get(fake, f"/v1/transfers/{transfer}")["amount_reversed"],
    }


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_order_with_duplicates_converges(
    api: support.Api, stripe: StripeFake, seller: Seller, data: st.DataObject
) -> None:
    buyer, intent, events = _payment_events(api, stripe, seller)
    duplicates = data.draw(st.lists(st.integers(0, len(events) - 1), max_size=3), label="duplicates")
    order = data.draw(st.permutations(list(range(len(events))) + duplicates), label="order")
    for index in order:
        status, body = deliver(events[index])
        assert status == 200, body
    assert _final_state(api, stripe, seller, buyer, intent) == EXPECTED
