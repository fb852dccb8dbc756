"""Artists connect Stripe and set a price; fans collect. The client never grants anything: the
PaymentIntent made here carries who buys from whom, and only its payment_intent.succeeded webhook grants."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from casset.clock import utcnow
from casset.data import purchases as purchases_data
from casset.data import stripe_api
from casset.data import users as users_data
from casset.entities import Money, User
from casset.errors import Conflict, Forbidden
from casset.rules import Caller, check_price, platform_fee, require_artist
from casset.services import referrals, users
from casset.settings import get_settings
from casset.stripe_shapes import (
    META_ARTIST_ID,
    META_BUYER_HANDLE,
    META_BUYER_ID,
    META_REFERRAL_CLICKED_AT,
    META_REFERRAL_CODE,
    META_REFERRER_ID,
)


@dataclass(frozen=True)
class Onboarding:
    account_id: str
    url: str
    expires_at: datetime
    onboarding_complete: bool


@dataclass(frozen=True)
class Checkout:
    payment_intent_id: str
    client_secret: str
    price: Money
    application_fee: int
    artist: User
    referral_code: str | None


def connect_stripe(caller: Caller) -> Onboarding:
    """The artist's Express account (made once) and a fresh onboarding link into it."""
    artist = require_artist(users_data.get_user(caller.require_user()))
    account_id = artist.stripe_account_id or stripe_api.create_express_account(artist.id)
    artist = users_data.attach_stripe_account(artist.id, account_id)
    account_id = artist.stripe_account_id or account_id
    studio = f"{get_settings().site_url.rstrip('/')}/studio/payments"
    url, expires_at = stripe_api.create_onboarding_link(
        account_id, refresh_url=f"{studio}?stripe=refresh", return_url=f"{studio}?stripe=return"
    )
    return Onboarding(account_id, url, expires_at, artist.stripe_onboarding_complete)


def set_collect_price(caller: Caller, price: Money) -> User:
    artist = require_artist(users_data.get_user(caller.require_user()))
    return users_data.set_collect_price(artist.id, check_price(price))


def start_checkout(
    caller: Caller,
    artist_slug: str,
    referral_code: str | None,
    referral_cookie: str | None,
    client_key: str | None,
) -> Checkout:
    """A PaymentIntent to the artist's connected account, with the platform fee. Every refusal happens
    before Stripe is called, so a refused checkout leaves no PaymentIntent behind."""
    buyer = users_data.get_user(caller.require_user())
    if buyer is None:
        raise Forbidden("Create your profile first.", code="PROFILE_REQUIRED")
    artist = users.artist_by_slug(artist_slug)
    if artist.id == buyer.id:
        raise Conflict("You cannot collect your own casset.", code="CANNOT_COLLECT_OWN")
    if not (artist.stripe_account_id and artist.stripe_onboarding_complete):
        raise Conflict(
            f"@{artist.handle} cannot accept payments yet: their Stripe onboarding is not complete.",
            code="ARTIST_NOT_ONBOARDED",
        )
    if artist.collect_price is None:
        raise Conflict(f"@{artist.handle} has not set a collect price yet.", code="COLLECT_PRICE_NOT_SET")
    if purchases_data.granted_purchase_id(buyer.id, artist.id):
        raise Conflict(
            f"You already collected @{artist.handle}: the unlock is forever.", code="ALREADY_COLLECTED"
        )
    price = artist.collect_price
    fee = platform_fee(price.amount, get_settings().platform_fee_bps)
    referral = referrals.resolve(artist, buyer, referral_code, referral_cookie, utcnow())
    metadata = {META_BUYER_ID: buyer.id, META_BUYER_HANDLE: buyer.handle, META_ARTIST_ID: artist.id}
    if referral:
        metadata |= {
            META_REFERRAL_CODE: referral.code,
            META_REFERRER_ID: referral.referrer_id,
            META_REFERRAL_CLICKED_AT: str(int(referral.clicked_at.timestamp())),
        }
    request = {
        "amount": price.amount,
        "currency": price.currency,
        "destination": artist.stripe_account_id,
        "fee": fee,
        "metadata": metadata,
        "client": client_key or "",
    }
    # The same request (a double tap, a network retry) gets the same PaymentIntent back from Stripe;
    # anything different is a different key, so Stripe never sees one key with two sets of parameters.
    key = "checkout-" + hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:48]
    intent = stripe_api.create_payment_intent(
        amount=price.amount,
        currency=price.currency,
        destination=artist.stripe_account_id,
        application_fee_amount=fee,
        metadata=metadata,
        description=f"Collect @{artist.handle} on Casset",
        idempotency_key=key,
    )
    return Checkout(intent.id, intent.client_secret, price, fee, artist, referral.code if referral else None)
