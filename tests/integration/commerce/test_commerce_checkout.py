"""Connecting Stripe, pricing and checkout, on moto with the real handlers and the Stripe fake over HTTP."""

import time
from typing import Any

import requests

from infra.local.stripe_fake import API_KEY, StripeFake
from tests.integration import support
from tests.integration.commerce_support import (
    checkout,
    deliver,
    event,
    fan,
    onboarded_artist,
    pay,
    stripe_get,
    stripe_post,
)


def _intents(fake: StripeFake) -> int:
    listed = requests.get(
        f"{fake.url}/v1/payment_intents", params={"limit": 1000}, auth=(API_KEY, ""), timeout=10
    )
    return len(listed.json()["data"])


def test_connect_creates_one_express_account_and_a_fresh_onboarding_link(
    api: support.Api, stripe: StripeFake
) -> None:
    artist = support.create_profile(api, artist=True)
    first = api("POST", "/api/studio/stripe/connect", user=artist)[1]
    again = api("POST", "/api/studio/stripe/connect", user=artist)[1]
    assert first["accountId"] == again["accountId"]
    assert first["accountId"].startswith("acct_")
    assert first["onboardingComplete"] is False
    account = stripe_get(stripe, f"/v1/accounts/{first['accountId']}")
    assert (account["type"], account["metadata"]) == ("express", {"userId": artist})
    assert api("GET", "/api/users/me", user=artist)[1]["stripeOnboardingComplete"] is False


def test_fans_cannot_connect_stripe(api: support.Api, stripe: StripeFake) -> None:
    status, body, _ = api("POST", "/api/studio/stripe/connect", user=fan(api))
    assert (status, body["code"]) == (403, "NOT_AN_ARTIST")


def test_account_updated_keeps_the_flag_equal_to_charges_and_payouts_enabled(
    api: support.Api, stripe: StripeFake
) -> None:
    seller = onboarded_artist(api, stripe)
    assert api("GET", "/api/users/me", user=seller.user_id)[1]["stripeOnboardingComplete"] is True
    (onboarded,) = stripe.events("account.updated", seller.account_id)
    stripe_post(stripe, f"/_config/accounts/{seller.account_id}/restrict")  # Stripe wants more details
    restricted = stripe.events("account.updated", seller.account_id)[-1]
    assert restricted["data"]["object"]["payouts_enabled"] is False
    assert deliver(restricted, connect=True)[1]["outcome"] == "ONBOARDING_INCOMPLETE"
    assert api("GET", "/api/users/me", user=seller.user_id)[1]["stripeOnboardingComplete"] is False
    # The old "complete" event delivered again (with a new id, as a late retry of a lost delivery would
    # be) reads the account as it is now: still incomplete.
    late = onboarded | {"id": onboarded["id"] + "late", "created": int(time.time()) + 60}
    assert deliver(late, connect=True)[1]["outcome"] == "ONBOARDING_INCOMPLETE"
    assert api("GET", "/api/users/me", user=seller.user_id)[1]["stripeOnboardingComplete"] is False


def test_two_account_updated_in_one_second_delivered_newest_first_leave_the_artist_onboarded(
    api: support.Api, stripe: StripeFake
) -> None:
    """Given the account's last two events in the same second (details submitted, then charges and
    payouts enabled), delivered newest first: the older snapshot must not win the tie."""
    seller = onboarded_artist(api, stripe)
    (complete,) = stripe.events("account.updated", seller.account_id)
    second = int(complete["created"])
    older_snapshot = complete["data"]["object"] | {"charges_enabled": False, "payouts_enabled": False}
    older = event("account.updated", older_snapshot, account=seller.account_id, created=second)
    newer = event("account.updated", complete["data"]["object"], account=seller.account_id, created=second)
    assert deliver(newer, connect=True)[1]["outcome"] == "ONBOARDING_COMPLETE"
    assert deliver(older, connect=True)[1]["outcome"] == "ONBOARDING_COMPLETE"
    assert api("GET", "/api/users/me", user=seller.user_id)[1]["stripeOnboardingComplete"] is True


def test_account_updated_for_an_unknown_account_is_recorded_and_ignored(
    api: support.Api, stripe: StripeFake
) -> None:
    unknown = {"id": "acct_nobody", "object": "account", "charges_enabled": True, "payouts_enabled": True}
    status, body = deliver(event("account.updated", unknown, account="acct_nobody"), connect=True)
    assert (status, body["status"], body["outcome"]) == (200, "PROCESSED", "UNKNOWN_ACCOUNT")


def test_collect_prices_are_integer_minor_units_in_a_supported_currency(
    api: support.Api, stripe: StripeFake
) -> None:
    artist = support.create_profile(api, artist=True)
    ok = api("PUT", "/api/studio/collect-price", user=artist, body={"amount": 499, "currency": "eur"})
    assert ok[0] == 200 and ok[1]["collectPrice"] == {"amount": 499, "currency": "EUR"}
    assert support.error_code(
        api("PUT", "/api/studio/collect-price", user=artist, body={"amount": 4.99, "currency": "EUR"})
    ) == (422, "VALIDATION_FAILED")
    assert support.error_code(
        api("PUT", "/api/studio/collect-price", user=artist, body={"amount": 499, "currency": "XYZ"})
    ) == (400, "UNSUPPORTED_CURRENCY")
    assert support.error_code(
        api("PUT", "/api/studio/collect-price", user=artist, body={"amount": 10, "currency": "USD"})
    ) == (400, "INVALID_PRICE")


def test_checkout_creates_a_destination_payment_intent_with_the_platform_fee(
    api: support.Api, stripe: StripeFake
) -> None:
    seller = onboarded_artist(api, stripe, price=1005)
    offer = api("GET", f"/api/casset/{seller.handle}/collect")[1]
    assert offer == {
        "artistId": seller.user_id,
        "handle": seller.handle,
        "acceptsCollects": True,
        "price": {"amount": 1005, "currency": "USD"},
    }
    buyer = fan(api)
    body = checkout(api, buyer, seller)
    assert (body["amount"], body["currency"], body["applicationFeeAmount"]) == (1005, "USD", 101)
    assert body["clientSecret"].startswith(body["paymentIntentId"])
    intent = stripe_get(stripe, f"/v1/payment_intents/{body['paymentIntentId']}")
    assert intent["transfer_data"] == {"destination": seller.account_id}
    assert intent["application_fee_amount"] == 101
    assert intent["metadata"]["cassetBuyerId"] == buyer
    assert intent["metadata"]["cassetArtistId"] == seller.user_id


def test_the_same_checkout_twice_is_one_payment_intent(api: support.Api, stripe: StripeFake) -> None:
    seller = onboarded_artist(api, stripe)
    buyer = fan(api)
    first = checkout(api, buyer, seller, headers={"idempotency-key": "tap-1"})
    again = checkout(api, buyer, seller, headers={"idempotency-key": "tap-1"})
    assert first["paymentIntentId"] == again["paymentIntentId"]


def test_checkout_refuses_before_stripe_is_called(api: support.Api, stripe: StripeFake) -> None:
    not_onboarded = support.create_profile(api, artist=True)
    handle = api("GET", "/api/users/me", user=not_onboarded)[1]["handle"]
    api("POST", "/api/studio/stripe/connect", user=not_onboarded)
    api("PUT", "/api/studio/collect-price", user=not_onboarded, body={"amount": 500, "currency": "USD"})
    buyer = fan(api)
    before = _intents(stripe)
    not_ready = api("POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": handle})
    assert support.error_code(not_ready) == (409, "ARTIST_NOT_ONBOARDED")
    unknown = api("POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": "nobody_here"})
    assert support.error_code(unknown) == (404, "ARTIST_NOT_FOUND")
    no_profile = api(
        "POST", "/api/checkout/payment-intent", user=support.fresh("x"), body={"artistSlug": handle}
    )
    assert support.error_code(no_profile) == (403, "PROFILE_REQUIRED")
    own = api("POST", "/api/checkout/payment-intent", user=not_onboarded, body={"artistSlug": handle})
    assert support.error_code(own) == (409, "CANNOT_COLLECT_OWN")
    assert _intents(stripe) == before


def test_a_fan_who_collected_cannot_pay_again(api: support.Api, stripe: StripeFake) -> None:
    seller = onboarded_artist(api, stripe)
    buyer = fan(api)
    succeeded = pay(stripe, checkout(api, buyer, seller)["paymentIntentId"])
    assert deliver(succeeded)[0] == 200
    again = api("POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": seller.handle})
    assert support.error_code(again) == (409, "ALREADY_COLLECTED")


def test_without_the_stripe_key_checkout_is_unavailable_not_a_crash(
    api: support.Api, stripe: StripeFake, settings_env: Any
) -> None:
    seller = onboarded_artist(api, stripe)
    settings_env(STRIPE_API_KEY_PARAMETER="/casset/local/stripe/missing")
    reply = api("POST", "/api/checkout/payment-intent", user=fan(api), body={"artistSlug": seller.handle})
    assert support.error_code(reply) == (503, "PAYMENTS_UNAVAILABLE")
