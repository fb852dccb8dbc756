"""The webhook's edge: Stripe's objects read through the models of just the fields we use, and the
checkout's own metadata read back whatever a Dashboard edit did to it. No AWS."""

from datetime import UTC, datetime
from typing import Any

import pytest

from casset.stripe_shapes import (
    ChargeShape,
    DisputeShape,
    PaymentIntentShape,
    Shape,
    ShapeError,
    checkout_metadata,
    identify,
    parse_event,
    parse_object,
)
from tests.stripe_objects import ABSENT, stripe_event, stripe_object


def _read[S: Shape](obj: dict[str, Any], shape: type[S]) -> S:
    return parse_object(parse_event(stripe_event("x", obj)), shape)


def test_stripe_own_objects_parse_and_expanded_ids_read_as_ids() -> None:
    intent = _read(stripe_object("payment_intent"), PaymentIntentShape)
    assert (intent.amount, intent.currency, intent.latest_charge, intent.metadata) == (1099, "usd", None, {})
    charge = _read(stripe_object("charge"), ChargeShape)
    assert (charge.payment_intent, charge.transfer, charge.amount_refunded) == (None, None, 0)
    expanded = stripe_object("charge", payment_intent={"id": "pi_1", "object": "payment_intent"})
    assert _read(expanded, ChargeShape).payment_intent == "pi_1"
    dispute = _read(stripe_object("dispute"), DisputeShape)
    assert (dispute.status, dispute.charge, dispute.payment_intent) == (
        "warning_needs_response",
        "ch_1PgafuB7WZ01zgkWXYmPNZs8",
        None,
    )


@pytest.mark.parametrize("body", [[], None, "evt_1", 42, {"id": 7, "type": "x"}, {"type": "x"}])
def test_what_is_not_an_event_says_so(body: Any) -> None:
    with pytest.raises(ShapeError) as raised:
        identify(body)
    assert raised.value.reason == "NOT_AN_EVENT"


def test_an_event_without_data_object_or_created_names_the_field() -> None:
    event = stripe_event("charge.refunded", {})
    event["data"] = {}
    with pytest.raises(ShapeError) as raised:
        parse_event(event)
    assert raised.value.reason == "MALFORMED_EVENT"
    assert [detail["field"] for detail in raised.value.details] == ["data.object"]
    with pytest.raises(ShapeError):
        parse_event(stripe_event("x", {}) | {"created": "yesterday"})


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"amount": ABSENT}, "data.object.amount"),
        ({"amount": "1000"}, "data.object.amount"),
        ({"amount": True}, "data.object.amount"),
        ({"amount": -1}, "data.object.amount"),
        ({"amount": 10**30}, "data.object.amount"),
        ({"currency": "dollars"}, "data.object.currency"),
        ({"id": ""}, "data.object.id"),
    ],
)
def test_an_object_without_a_field_we_read_names_it(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ShapeError) as raised:
        _read(stripe_object("payment_intent", **fields), PaymentIntentShape)
    assert raised.value.reason == "MALFORMED_OBJECT"
    assert field in [detail["field"] for detail in raised.value.details]


OURS = {"cassetBuyerId": "fan-1", "cassetBuyerHandle": "fan", "cassetArtistId": "artist-1"}
REFERRAL = {
    "cassetReferralCode": "abc123",
    "cassetReferrerId": "ref-1",
    "cassetReferralClickedAt": "1777000000",
}


def test_our_metadata_reads_back_with_its_referral_and_unknown_keys_are_ignored() -> None:
    read = checkout_metadata(OURS | REFERRAL | {"note": "added in the Dashboard"})
    assert (read.buyer_id, read.artist_id, read.referral_dropped) == ("fan-1", "artist-1", None)
    assert read.referral is not None
    assert read.referral.clicked_at == datetime.fromtimestamp(1777000000, UTC)
    assert checkout_metadata(OURS).referral is None and checkout_metadata(None).buyer_id is None


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"cassetReferralClickedAt": "yesterday"}, "cassetReferralClickedAt is not a whole number"),
        ({"cassetReferralClickedAt": "1.7e9"}, "cassetReferralClickedAt is not a whole number"),
        ({"cassetReferralClickedAt": "-5"}, "cassetReferralClickedAt is not a whole number"),
        ({"cassetReferralClickedAt": "9" * 12}, "cassetReferralClickedAt is not a whole number"),
        ({"cassetReferralClickedAt": ""}, "cassetReferralClickedAt missing"),
        ({"cassetReferrerId": None}, "cassetReferrerId missing"),
        ({"cassetReferralCode": "not a code!"}, "cassetReferralCode is not a referral code"),
    ],
)
def test_a_referral_we_did_not_write_is_dropped_with_the_reason(edit: dict[str, Any], reason: str) -> None:
    edited = {key: value for key, value in (REFERRAL | edit).items() if value is not None}
    read = checkout_metadata(OURS | edited)
    assert read.referral is None and read.referral_dropped and reason in read.referral_dropped
    assert (read.buyer_id, read.artist_id) == ("fan-1", "artist-1")
