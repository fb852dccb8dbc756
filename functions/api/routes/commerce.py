"""Stripe Connect onboarding, prices, checkout, entitlement and referrals."""

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from aws_lambda_powertools.shared.cookies import Cookie, SameSite

from api.routes.common import (
    READ_ERRORS,
    SIGNED_IN,
    WRITE_ERRORS,
    PathId,
    caller,
    created,
    created_response,
    errors,
    ok_response,
    redirect_response,
)
from api.schemas import (
    AttributionOut,
    CheckoutOut,
    CheckoutRequest,
    CollectOfferOut,
    CollectPriceRequest,
    EntitlementOut,
    LedgerEntryOut,
    MoneyOut,
    ReferralLinkOut,
    ReferralSummaryOut,
    StripeConnectOut,
    UserOut,
)
from casset.entities import Money
from casset.services import entitlements, payments, referrals, users
from casset.settings import get_settings

router = APIGatewayHttpRouter()
PAYMENT_ERRORS = WRITE_ERRORS | errors(503)


@router.post(
    "/api/studio/stripe/connect",
    operation_id="connectStripe",
    summary="Connect Stripe: the artist's Express account (created once) and a fresh onboarding link",
    tags=["commerce"],
    security=SIGNED_IN,
    responses=ok_response() | PAYMENT_ERRORS,
)
def connect_stripe() -> StripeConnectOut:
    onboarding = payments.connect_stripe(caller(router))
    return StripeConnectOut(
        account_id=onboarding.account_id,
        onboarding_url=onboarding.url,
        expires_at=onboarding.expires_at,
        onboarding_complete=onboarding.onboarding_complete,
    )


@router.put(
    "/api/studio/collect-price",
    operation_id="setCollectPrice",
    summary="Set the artist's collect price (integer minor units, ISO 4217 currency)",
    tags=["commerce"],
    security=SIGNED_IN,
    responses=ok_response() | WRITE_ERRORS,
)
def set_collect_price(request: Annotated[CollectPriceRequest, Body()]) -> UserOut:
    price = Money(amount=request.amount, currency=request.currency)
    return UserOut.of(payments.set_collect_price(caller(router), price))


@router.get(
    "/api/casset/<slug>/collect",
    operation_id="getCollectOffer",
    summary="Whether an artist accepts collects, and at what price (anyone)",
    tags=["commerce"],
    responses=ok_response() | READ_ERRORS,
)
def collect_offer(slug: PathId) -> CollectOfferOut:
    return CollectOfferOut.of(users.artist_by_slug(slug))


@router.post(
    "/api/checkout/payment-intent",
    operation_id="createPaymentIntent",
    summary="Collect an artist: a PaymentIntent to their connected account with the platform fee",
    description="Access is granted by Stripe's payment_intent.succeeded webhook, never by the client.",
    tags=["commerce"],
    security=SIGNED_IN,
    responses=ok_response() | PAYMENT_ERRORS,
)
def create_payment_intent(
    request: Annotated[CheckoutRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="idempotency-key", max_length=255)] = None,
) -> CheckoutOut:
    checkout = payments.start_checkout(
        caller(router),
        request.artist_slug,
        request.referral_code,
        _cookie(referrals.COOKIE_NAME),
        idempotency_key,
    )
    return CheckoutOut(
        payment_intent_id=checkout.payment_intent_id,
        client_secret=checkout.client_secret,
        publishable_key=get_settings().stripe_publishable_key,
        amount=checkout.price.amount,
        currency=checkout.price.currency,
        application_fee_amount=checkout.application_fee,
        artist_id=checkout.artist.id,
        referral_code=checkout.referral_code,
    )


@router.get(
    "/api/entitlements/<artistId>",
    operation_id="getEntitlement",
    summary="Whether the caller may hear this artist's full tracks",
    tags=["commerce"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS,
)
def get_entitlement(artistId: PathId) -> EntitlementOut:
    found = entitlements.entitlement(caller(router), artistId)
    return EntitlementOut(
        artist_id=found.artist_id,
        entitled=found.entitled,
        reason=found.reason.value,
        purchase_id=found.purchase_id,
    )


@router.post(
    "/api/casset/<slug>/referral-link",
    operation_id="createReferralLink",
    summary="A unique short URL to share this artist; collects through it within 30 days credit the caller",
    tags=["referrals"],
    security=SIGNED_IN,
    responses=created_response(ReferralLinkOut) | WRITE_ERRORS,
)
def create_referral_link(slug: PathId) -> Response[ReferralLinkOut]:
    link = referrals.create_link(caller(router), slug)
    return created(ReferralLinkOut.of(link, referrals.short_url(link.code)))


@router.get(
    "/r/<code>",
    operation_id="openReferralLink",
    summary="Open a referral link: redirects to the artist's page and sets the 30-day `ref` cookie",
    tags=["referrals"],
    responses=redirect_response("Redirect to the artist's page (or the site for an unknown code)"),
)
def open_referral_link(code: PathId) -> Response[None]:
    opened = referrals.open_link(code)
    return referral_redirect(opened.redirect_url, opened.click_id, opened.max_age_sec)


def referral_redirect(location: str, click_id: str | None, max_age_sec: int) -> Response[None]:
    """302 to location, setting the `ref` attribution cookie to the click's id when there is one
    (/r/{code} and /s/{shareId} both answer with this)."""
    cookies = []
    if click_id:
        cookies.append(
            Cookie(
                name=referrals.COOKIE_NAME,
                value=click_id,
                path="/",
                secure=True,
                http_only=True,
                max_age=max_age_sec,
                same_site=SameSite.LAX_MODE,
            )
        )
    return Response(
        status_code=HTTPStatus.FOUND,
        headers={"Location": location, "Cache-Control": "no-store"},
        cookies=cookies,
    )


@router.get(
    "/api/studio/referrals",
    operation_id="getReferralSummary",
    summary="The caller's referral credit: balance per currency, pending and frozen credit, ledger entries",
    tags=["referrals"],
    security=SIGNED_IN,
    responses=ok_response() | READ_ERRORS,
)
def referral_summary() -> ReferralSummaryOut:
    summary = referrals.summary(caller(router))
    return ReferralSummaryOut(
        balances=[MoneyOut.of(money) for money in summary.balances],
        pending=[MoneyOut.of(money) for money in summary.pending],
        frozen=[MoneyOut.of(money) for money in summary.frozen],
        entries=[LedgerEntryOut.of(entry) for entry in summary.entries],
        attributions=[AttributionOut.of(attribution) for attribution in summary.attributions],
    )


def _cookie(name: str) -> str | None:
    for cookie in router.current_event.cookies or []:
        key, _, value = cookie.partition("=")
        if key.strip() == name and value.strip():
            return value.strip()
    return None
