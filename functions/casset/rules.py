"""Business rules as pure functions: no AWS, no I/O, so they are tested directly."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from casset.entities import (
    ExportJob,
    ExportStatus,
    MediaStatus,
    Money,
    PaymentFacts,
    PayoutState,
    PurchaseState,
    RewardState,
    Track,
    User,
    Visual,
)
from casset.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

HOOK_MIN_SEC = 5.0
HOOK_MAX_SEC = 30.0
HOOK_DEFAULT_SEC = 15.0

_HANDLE = re.compile(r"[a-z0-9_][a-z0-9_.]{2,29}")  # always fullmatch: `$` lets a trailing newline in
RESERVED_HANDLES = frozenset(
    {"admin", "api", "casset", "help", "root", "settings", "studio", "support", "swagger"}
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the JWT subject and groups, or nobody on an anonymous route."""

    user_id: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    def require_user(self) -> str:
        if not self.user_id:
            raise Unauthorized("Sign in to do this.")
        return self.user_id


def _fold_handle(raw: str) -> str:
    return raw.strip().removeprefix("@").lower()


def normalise_handle(raw: str) -> str:
    handle = _fold_handle(raw)
    if not _HANDLE.fullmatch(handle):
        raise BadRequest(
            "A handle is 3-30 characters: letters, digits, underscores and dots, not starting with a dot.",
            code="INVALID_HANDLE",
        )
    if handle in RESERVED_HANDLES:
        raise Conflict(f"The handle @{handle} is reserved.", code="HANDLE_TAKEN")
    return handle


def handle_to_look_up(raw: str) -> str | None:
    """The handle a path names (`@Name`, `name`), or None when it could not be anyone's handle (empty
    once folded, like `@`, spaces or a control character): the caller answers 404 without a read."""
    handle = _fold_handle(raw)
    return handle if _HANDLE.fullmatch(handle) else None


def check_hook(start_sec: float, duration_sec: float, audio_duration_sec: float | None) -> None:
    if start_sec < 0:
        raise BadRequest("The hook cannot start before the track.", code="INVALID_HOOK")
    if not HOOK_MIN_SEC <= duration_sec <= HOOK_MAX_SEC:
        raise BadRequest(
            f"A hook lasts between {HOOK_MIN_SEC:g} and {HOOK_MAX_SEC:g} seconds.", code="INVALID_HOOK"
        )
    if audio_duration_sec is not None and start_sec + duration_sec > audio_duration_sec + 1e-6:
        raise BadRequest(
            f"The hook ends at {start_sec + duration_sec:g}s but the audio lasts {audio_duration_sec:g}s.",
            code="INVALID_HOOK",
        )


def fit_hook(start_sec: float, duration_sec: float, audio_duration_sec: float) -> tuple[float, float] | None:
    """The hook moved inside audio that turned out shorter than it; None when it already fits."""
    if start_sec + duration_sec <= audio_duration_sec:
        return None
    duration = min(duration_sec, audio_duration_sec)
    return max(0.0, audio_duration_sec - duration), duration


def require_artist(user: User | None) -> User:
    if user is None:
        raise Forbidden("Create your profile first.", code="PROFILE_REQUIRED")
    if not user.is_artist:
        raise Forbidden("Only artists can do this; turn on your artist profile.", code="NOT_AN_ARTIST")
    return user


def require_track_owner(caller: Caller, track: Track) -> None:
    if caller.require_user() != track.artist_id:
        raise Forbidden("Only the track's artist can do this.", code="NOT_TRACK_OWNER")


def can_see(caller: Caller, track: Track, visual: Visual) -> bool:
    """Fans see READY visuals; the artist and the uploader see every status."""
    if visual.status is MediaStatus.READY:
        return True
    return caller.user_id is not None and caller.user_id in {track.artist_id, visual.uploader_user_id}


def visible_visual(caller: Caller, track: Track, visual: Visual | None) -> Visual:
    """The one visibility rule of every path that names a visual by id (reading it, exporting or sharing
    with it): a visual of another track, or one the caller may not see, is not found, so whether an id
    exists (and in which state) cannot be probed."""
    if visual is None or visual.track_id != track.id or not can_see(caller, track, visual):
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    return visual


def check_can_activate(visual: Visual) -> None:
    if visual.status is MediaStatus.ARCHIVED:
        raise Conflict(
            "An archived visual cannot be made active; unarchive it first.", code="VISUAL_ARCHIVED"
        )
    if visual.status is not MediaStatus.READY:
        raise Conflict(
            f"Only a READY visual can be made active; this one is {visual.status.value}.",
            code="VISUAL_NOT_READY",
        )


def check_can_archive(visual: Visual) -> None:
    """Any visual not archived yet; one still PROCESSING has its upload cancelled (data.visuals.archive)."""
    if visual.status is MediaStatus.ARCHIVED:
        raise Conflict("The visual is already archived.", code="VISUAL_ALREADY_ARCHIVED")


def check_can_reuse(caller: Caller, visual: Visual | None) -> Visual:
    """An artist reuses their own earlier upload, and only once its media has been probed."""
    if visual is None:
        raise NotFound("No such visual to reuse.", code="VISUAL_NOT_FOUND")
    if visual.uploader_user_id != caller.user_id:
        raise Forbidden("Only your own uploads can be reused.", code="VISUAL_NOT_OWNED")
    if visual.media is None or visual.status not in {MediaStatus.READY, MediaStatus.ARCHIVED}:
        raise Conflict(
            f"Only a processed visual can be reused; this one is {visual.status.value}.",
            code="VISUAL_NOT_READY",
        )
    return visual


def visual_of_track(visual: Visual | None, track_id: str) -> Visual:
    if visual is None or visual.track_id != track_id:
        raise NotFound("No such visual on this track.", code="VISUAL_NOT_FOUND")
    return visual


# Commerce. Money is integer minor units with an ISO 4217 code; nothing here touches a float.

BASIS_POINTS = 10_000
# Currencies Stripe settles for connected accounts that we price in; JPY has no minor unit.
SUPPORTED_CURRENCIES = frozenset(
    {"USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK", "DKK", "JPY"}
)
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY"})
# Stripe's minimum charge is about 0.50 in every supported currency (50 JPY); the maximum keeps a collect
# a collect, not a wire transfer.
MIN_PRICE_MINOR = 50
MAX_PRICE_MINOR = 1_000_000


def normalise_currency(raw: str) -> str:
    currency = raw.strip().upper()
    if currency not in SUPPORTED_CURRENCIES:
        raise BadRequest(
            f"Unsupported currency {raw!r}; use one of {', '.join(sorted(SUPPORTED_CURRENCIES))}.",
            code="UNSUPPORTED_CURRENCY",
        )
    return currency


def check_price(price: Money) -> Money:
    currency = normalise_currency(price.currency)
    if not MIN_PRICE_MINOR <= price.amount <= MAX_PRICE_MINOR:
        raise BadRequest(
            f"A collect price is between {MIN_PRICE_MINOR} and {MAX_PRICE_MINOR} minor units.",
            code="INVALID_PRICE",
        )
    return Money(amount=price.amount, currency=currency)


def platform_fee(amount: int, fee_bps: int) -> int:
    """The platform's cut in minor units: amount x bps / 10 000, rounded half up to a whole minor unit
    (1 005 at 10 % is 101: 100.5 rounds up). Integer arithmetic only."""
    if amount < 0 or not 0 <= fee_bps <= BASIS_POINTS:
        raise ValueError("amount must be >= 0 and bps within 0..10000")
    return (amount * fee_bps + BASIS_POINTS // 2) // BASIS_POINTS


def referral_credit(amount: int, credit_bps: int) -> int:
    """The referrer's credit: rounded down, so the platform never credits more than its rate."""
    return amount * credit_bps // BASIS_POINTS


def within_referral_window(clicked_at: datetime, paid_at: datetime, window_days: int) -> bool:
    """A click counts for payments up to and including exactly window_days after it."""
    elapsed = paid_at - clicked_at
    return timedelta(0) <= elapsed <= timedelta(days=window_days)


def transfer_reversal_due(
    charge_amount: int, amount_refunded: int, transfer_amount: int, amount_reversed: int
) -> int:
    """How much of the destination transfer to pull back from the artist for the refunds so far: the
    share the artist received of what was refunded (rounded down), less what was already reversed.
    Cumulative, so replaying a refund event asks for nothing more."""
    if charge_amount <= 0:
        return 0
    refunded = min(amount_refunded, charge_amount)
    owed_back = transfer_amount * refunded // charge_amount
    return max(0, owed_back - amount_reversed)


def preview_source(audio_key: str, start_sec: float, duration_sec: float) -> str:
    """What a hook preview is cut from: a new audio upload or another hook range is another clip."""
    return f"{audio_key}|{start_sec:.3f}|{duration_sec:.3f}"


def preview_failed(track: Track) -> bool:
    """Cutting the track's current audio and hook already failed for good (rather than not done yet)."""
    wanted = preview_source(track.audio_key or "", track.preview_start_sec, track.hook_duration_sec)
    return track.preview_failed_source == wanted


def preview_digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:20]


# What follows from a purchase's facts. The state, the payout and reward states and the set of effects are
# pure functions of the facts, which only grow; so any delivery order of a payment's events, with any
# duplicates, ends in the same place.

EFFECT_GRANT = "grant"  # activity "@fan collected", the artist's notification, the artist's earning
EFFECT_REFERRAL = "referral"  # the ReferralAttribution and the referrer's credit
EFFECT_REFUND = "refund"  # reversing ledger entries for the earning (and the referral credit)
EFFECT_DISPUTE = "dispute"  # the artist is told of a chargeback
EFFECT_DISPUTE_INQUIRY = "dispute-inquiry"  # the artist is told of an inquiry (no money moved)
EFFECT_DISPUTE_CLOSED = "dispute-closed"  # + ":{status}": told how it ended, once per closing status

# Stripe's dispute statuses. An inquiry (warning_*) is a question from the card issuer, not a chargeback:
# no money moved, so access and payout stay. A chargeback (needs_response, under_review) freezes them;
# "won" releases them, "lost" sends the money back to the buyer. "prevented" is a dispute stopped before it
# was filed as a chargeback (Visa RDR and the like): nothing is charged back, so it releases too. A status
# can move more than once, and come back (an inquiry escalates, a won dispute is reopened on appeal): the
# latest observation by time decides the state.
DISPUTE_INQUIRY_OPEN = frozenset({"warning_needs_response", "warning_under_review"})
DISPUTE_INQUIRY = DISPUTE_INQUIRY_OPEN | {"warning_closed"}
DISPUTE_CHARGEBACK_OPEN = frozenset({"needs_response", "under_review"})
DISPUTE_RELEASED = frozenset({"won", "warning_closed", "prevented"})
DISPUTE_LOST = "lost"
DISPUTE_CLOSED = DISPUTE_RELEASED | {DISPUTE_LOST}
# Statuses that mean a chargeback was filed (the artist is told its payout is on hold).
DISPUTE_CHARGEBACK = DISPUTE_CHARGEBACK_OPEN | {"won", DISPUTE_LOST}
DISPUTE_KNOWN = DISPUTE_INQUIRY | DISPUTE_CHARGEBACK_OPEN | DISPUTE_CLOSED
# Same-second ties go to the later stage of the dispute's life, then to the name (so any order agrees).
_DISPUTE_STAGE = {
    "warning_needs_response": 0,
    "warning_under_review": 1,
    "warning_closed": 2,
    "needs_response": 3,
    "under_review": 4,
}
_CLOSED_STAGE = 5


def dispute_closed_effect(status: str) -> str:
    return f"{EFFECT_DISPUTE_CLOSED}:{status}"


def dispute_history(facts: PaymentFacts) -> dict[str, datetime]:
    """Every status the dispute was seen in, with when it was first seen (what its notification is dated)."""
    if facts.dispute_history:
        return dict(facts.dispute_history)
    if facts.dispute_status:  # stored before statuses were kept as a history
        return {facts.dispute_status: facts.disputed_at or datetime.min.replace(tzinfo=UTC)}
    return {}


def _dispute_order(observation: tuple[datetime, str]) -> tuple[datetime, int, str]:
    at, status = observation
    return at, _DISPUTE_STAGE.get(status, _CLOSED_STAGE), status


def latest_dispute_status(facts: PaymentFacts) -> str | None:
    """The dispute's status now: the latest of every observation (a status seen again later counts at its
    later time), among the statuses we know; a status we do not know decides nothing."""
    observations = list(facts.dispute_observations) or [
        (at, status) for status, at in dispute_history(facts).items()
    ]
    known = [observation for observation in observations if observation[1] in DISPUTE_KNOWN]
    return max(known, key=_dispute_order)[1] if known else None


def dispute_closed_statuses(history: dict[str, datetime]) -> list[str]:
    """The statuses the artist is told a dispute closed with, oldest first."""
    closed = [status for status in history if status in DISPUTE_CLOSED]
    return sorted(closed, key=lambda status: _dispute_order((history[status], status)))


@dataclass(frozen=True)
class ReferralDecision:
    referrer_id: str
    code: str
    clicked_at: datetime
    credit: Money


@dataclass(frozen=True)
class PurchaseOutcome:
    state: PurchaseState
    payout_state: PayoutState | None
    reward_state: RewardState | None
    referral: ReferralDecision | None
    effects_due: tuple[str, ...]  # effects the facts call for, in a stable order
    artist_share: int | None


def fully_refunded(facts: PaymentFacts) -> bool:
    return facts.amount is not None and facts.amount > 0 and facts.amount_refunded >= facts.amount


def dispute_open(facts: PaymentFacts) -> bool:
    """A chargeback not closed in the seller's favour, by the latest known status. An inquiry and a
    prevented dispute freeze nothing; a lost dispute keeps what the chargeback froze: access off, payout
    held (reversing the transfer is not automated). A dispute with no status (stored before statuses were
    kept) is a chargeback; a status we do not know freezes nothing (the webhook logs it for an alert)."""
    if not facts.disputed:
        return False
    if not (facts.dispute_observations or dispute_history(facts)):
        return True
    status = latest_dispute_status(facts)
    return status in DISPUTE_CHARGEBACK_OPEN or status == DISPUTE_LOST


def dispute_lost(facts: PaymentFacts) -> bool:
    """Lost at some point: the referral reward it cancelled stays cancelled, even if an appeal later wins
    (ledger lines are never rewritten, and a reward is not paid on a payment that was charged back)."""
    return facts.disputed and DISPUTE_LOST in dispute_history(facts)


def referral_of(facts: PaymentFacts, window_days: int, credit_bps: int) -> ReferralDecision | None:
    if not (facts.succeeded and facts.referral_code and facts.referrer_id and facts.referral_clicked_at):
        return None
    if facts.referrer_id in {facts.buyer_id, facts.artist_id}:
        return None
    if facts.succeeded_at is None or facts.amount is None or facts.currency is None:
        return None
    if not within_referral_window(facts.referral_clicked_at, facts.succeeded_at, window_days):
        return None
    credit = referral_credit(facts.amount, credit_bps)
    if credit <= 0:
        return None
    return ReferralDecision(
        facts.referrer_id,
        facts.referral_code,
        facts.referral_clicked_at,
        Money(amount=credit, currency=facts.currency),
    )


def settle_purchase(
    facts: PaymentFacts, applied: frozenset[str], *, window_days: int, credit_bps: int
) -> PurchaseOutcome:
    refunded = fully_refunded(facts)
    disputed = dispute_open(facts)
    if not facts.succeeded:
        return PurchaseOutcome(PurchaseState.PENDING, None, None, None, (), None)
    if refunded:
        state = PurchaseState.REFUNDED
    elif disputed:
        state = PurchaseState.DISPUTED
    else:
        state = PurchaseState.GRANTED
    if facts.paid_out_by:
        payout = PayoutState.SETTLED
    elif refunded:
        payout = PayoutState.CANCELLED
    elif disputed:
        payout = PayoutState.FROZEN
    else:
        payout = PayoutState.PENDING
    referral = referral_of(facts, window_days, credit_bps)
    reward = None
    if referral:
        reward = (
            RewardState.CANCELLED
            if refunded or dispute_lost(facts)
            else RewardState.FROZEN
            if disputed
            else RewardState.PENDING
        )
    wanted = [EFFECT_GRANT]
    if referral:
        wanted.append(EFFECT_REFERRAL)
    if refunded:
        wanted.append(EFFECT_REFUND)
    if facts.disputed:
        history = dispute_history(facts)
        if any(status in DISPUTE_INQUIRY for status in history):
            wanted.append(EFFECT_DISPUTE_INQUIRY)
        if not history or any(status in DISPUTE_CHARGEBACK for status in history):
            wanted.append(EFFECT_DISPUTE)
        wanted += [dispute_closed_effect(status) for status in dispute_closed_statuses(history)]
    share = (facts.amount or 0) - (facts.application_fee or 0)
    return PurchaseOutcome(
        state, payout, reward, referral, tuple(effect for effect in wanted if effect not in applied), share
    )


def export_send_lost(job: ExportJob, now: datetime, resend_after_sec: int) -> bool:
    """A QUEUED export that nothing touched (no render claimed it, no re-send) for resend_after_sec may
    have lost its queue message, the send having failed: it is sent again rather than waiting for its TTL."""
    return job.status is ExportStatus.QUEUED and now - job.updated_at >= timedelta(seconds=resend_after_sec)


def upload_deadline(now: datetime, url_ttl_sec: int, grace_sec: int) -> datetime:
    """When a PROCESSING record whose upload has not arrived is given up: the presigned POST's expiry (an
    upload begun just before it may still be landing) plus a grace."""
    return now + timedelta(seconds=url_ttl_sec + grace_sec)


def deadline_day(deadline: datetime) -> str:
    """The partition of the sparse byUploadDeadline indexes: the UTC day the wait ends."""
    return deadline.astimezone(UTC).strftime("%Y-%m-%d")
