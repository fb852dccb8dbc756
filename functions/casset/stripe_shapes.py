"""What our webhook handlers read from Stripe's events, and nothing more: one pydantic model per object
type, checked at the edge before any handler runs. A signed body that is JSON but not an event, an event
without data.object, or an object without a field a handler reads is refused here with the field named,
so no handler ever meets a shape it does not expect. Unknown fields are ignored (Stripe adds fields in
every API version); ids Stripe may send expanded are read as their id.

The metadata our checkout writes on a PaymentIntent is parsed here too: it can be edited in the
Dashboard, so a field we did not write is dropped with a reason rather than failing the payment."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError

# PaymentIntent metadata written at checkout (services/payments.py) and read back by the webhook.
META_BUYER_ID = "cassetBuyerId"
META_BUYER_HANDLE = "cassetBuyerHandle"
META_ARTIST_ID = "cassetArtistId"
META_REFERRAL_CODE = "cassetReferralCode"
META_REFERRER_ID = "cassetReferrerId"
META_REFERRAL_CLICKED_AT = "cassetReferralClickedAt"
REFERRAL_KEYS = (META_REFERRAL_CODE, META_REFERRER_ID, META_REFERRAL_CLICKED_AT)

_MAX_AMOUNT = 10**12  # far above Stripe's own limit (8 digits), far below what DynamoDB cannot store
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z: datetime's own limit
_METADATA_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")


def _expanded_id(value: Any) -> Any:
    """Stripe sends a related object as its id, or (expanded) as the object itself."""
    return value.get("id") if isinstance(value, dict) else value


StripeId = Annotated[str, Field(strict=True, min_length=1, max_length=255)]
RelatedId = Annotated[StripeId, BeforeValidator(_expanded_id)]
Amount = Annotated[StrictInt, Field(ge=0, le=_MAX_AMOUNT)]
Epoch = Annotated[StrictInt, Field(ge=0, le=_MAX_EPOCH)]
Currency = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z]{3}$")]


class Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class EventIdentity(Shape):
    """Enough of an event to record it under its own id."""

    id: StripeId
    type: StripeId


class EventData(Shape):
    object: dict[str, Any]


class Event(EventIdentity):
    created: Epoch
    livemode: StrictBool = False
    account: StripeId | None = None  # set on events of connected accounts (the Connect endpoint's)
    data: EventData

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, UTC)


class PaymentIntentShape(Shape):
    id: StripeId
    amount: Amount
    currency: Currency
    application_fee_amount: Amount | None = None
    latest_charge: RelatedId | None = None
    metadata: dict[str, Any] | None = None


class ChargeShape(Shape):
    id: StripeId
    amount: Amount
    currency: Currency
    amount_refunded: Amount = 0
    payment_intent: RelatedId | None = None  # null on charges not made through a PaymentIntent
    transfer: RelatedId | None = None  # often absent from the event: re-read the charge for it


class DisputeShape(Shape):
    id: StripeId
    charge: RelatedId
    payment_intent: RelatedId | None = None
    status: StripeId
    created: Epoch

    @property
    def created_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, UTC)


class PayoutShape(Shape):
    id: StripeId


class AccountShape(Shape):
    id: StripeId


@dataclass(frozen=True)
class ShapeError(Exception):
    """The body is not the shape a handler reads: `reason` is stable, `details` name the fields."""

    reason: str
    details: tuple[dict[str, str], ...] = ()

    def __str__(self) -> str:
        fields = "; ".join(f"{d['field']}: {d['message']}" for d in self.details)
        return f"{self.reason} ({fields})" if fields else self.reason


NOT_AN_EVENT = "NOT_AN_EVENT"
MALFORMED_EVENT = "MALFORMED_EVENT"
MALFORMED_OBJECT = "MALFORMED_OBJECT"


def _details(error: ValidationError, prefix: str) -> tuple[dict[str, str], ...]:
    return tuple(
        {
            "field": ".".join([prefix, *(str(part) for part in issue["loc"])]).strip("."),
            "message": issue["msg"],
        }
        for issue in error.errors(include_url=False, include_input=False)
    )


def identify(body: Any) -> EventIdentity:
    """The event's id and type, or ShapeError(NOT_AN_EVENT) for `[]`, `null`, a string, a number..."""
    try:
        return EventIdentity.model_validate(body)
    except ValidationError as error:
        raise ShapeError(NOT_AN_EVENT, _details(error, "")) from error


def parse_event(body: Any) -> Event:
    try:
        return Event.model_validate(body)
    except ValidationError as error:
        raise ShapeError(MALFORMED_EVENT, _details(error, "")) from error


def parse_object[S: Shape](event: Event, shape: type[S]) -> S:
    try:
        return shape.model_validate(event.data.object)
    except ValidationError as error:
        raise ShapeError(MALFORMED_OBJECT, _details(error, "data.object")) from error


@dataclass(frozen=True)
class ReferralMetadata:
    code: str
    referrer_id: str
    clicked_at: datetime


@dataclass(frozen=True)
class CheckoutMetadata:
    """Our checkout's metadata as read back; `referral_dropped` says why a referral was not taken."""

    buyer_id: str | None
    buyer_handle: str | None
    artist_id: str | None
    referral: ReferralMetadata | None
    referral_dropped: str | None


def _text(metadata: dict[str, Any], key: str) -> str | None:
    value = metadata.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _identifier(metadata: dict[str, Any], key: str) -> str | None:
    value = _text(metadata, key)
    return value if value and _METADATA_ID.fullmatch(value) else None


def checkout_metadata(metadata: dict[str, Any] | None) -> CheckoutMetadata:
    """Read what services/payments.py wrote. Unknown keys are ignored; a referral whose fields are not
    all present and well formed is dropped (the payment itself still counts)."""
    metadata = metadata or {}
    referral, dropped = _referral(metadata)
    return CheckoutMetadata(
        buyer_id=_identifier(metadata, META_BUYER_ID),
        buyer_handle=_text(metadata, META_BUYER_HANDLE),
        artist_id=_identifier(metadata, META_ARTIST_ID),
        referral=referral,
        referral_dropped=dropped,
    )


def _referral(metadata: dict[str, Any]) -> tuple[ReferralMetadata | None, str | None]:
    present = [key for key in REFERRAL_KEYS if metadata.get(key) not in (None, "")]
    if not present:
        return None, None
    missing = [key for key in REFERRAL_KEYS if key not in present]
    if missing:
        return None, f"{', '.join(missing)} missing"
    code, referrer = _identifier(metadata, META_REFERRAL_CODE), _identifier(metadata, META_REFERRER_ID)
    if code is None:
        return None, f"{META_REFERRAL_CODE} is not a referral code"
    if referrer is None:
        return None, f"{META_REFERRER_ID} is not a user id"
    clicked = metadata.get(META_REFERRAL_CLICKED_AT)
    if not isinstance(clicked, str) or not re.fullmatch(r"[0-9]{1,12}", clicked) or int(clicked) > _MAX_EPOCH:
        return None, f"{META_REFERRAL_CLICKED_AT} is not a whole number of seconds since 1970"
    return ReferralMetadata(code, referrer, datetime.fromtimestamp(int(clicked), UTC)), None
