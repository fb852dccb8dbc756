"""From a purchase's facts to its effects. Each Stripe event only adds facts (data/purchases.py); this
module then brings the purchase and everything that follows from it up to date, as often as it is asked:
what the facts call for and what is already applied are compared, and only the difference is written."""

from datetime import datetime

from casset.clock import utcnow
from casset.data import purchases as purchases_data
from casset.data import referrals as referrals_data
from casset.entities import (
    ActivityEvent,
    LedgerEntry,
    Notification,
    Purchase,
    ReferralAttribution,
)
from casset.errors import Unavailable
from casset.rules import (
    DISPUTE_LOST,
    EFFECT_DISPUTE,
    EFFECT_DISPUTE_INQUIRY,
    EFFECT_GRANT,
    EFFECT_REFERRAL,
    EFFECT_REFUND,
    PurchaseOutcome,
    dispute_closed_effect,
    dispute_closed_statuses,
    dispute_history,
    settle_purchase,
)
from casset.settings import get_settings

_MAX_ATTEMPTS = 8

LEDGER_ARTIST_EARNING = "ARTIST_EARNING"
LEDGER_ARTIST_EARNING_REVERSAL = "ARTIST_EARNING_REVERSAL"
LEDGER_REFERRAL_CREDIT = "REFERRAL_CREDIT"
LEDGER_REFERRAL_CREDIT_REVERSAL = "REFERRAL_CREDIT_REVERSAL"
REFERRAL_KINDS = frozenset({LEDGER_REFERRAL_CREDIT, LEDGER_REFERRAL_CREDIT_REVERSAL})


def converge(payment_intent_id: str) -> Purchase | None:
    """Apply whatever the purchase's facts call for that is not applied yet; None for an unknown id."""
    settings = get_settings()
    for _ in range(_MAX_ATTEMPTS):
        purchase = purchases_data.get_purchase(payment_intent_id)
        if purchase is None:
            return None
        outcome = settle_purchase(
            purchase.facts,
            purchase.applied_effects,
            window_days=settings.referral_window_days,
            credit_bps=settings.referral_credit_bps,
        )
        if not _changes(purchase, outcome):
            return purchase
        try:
            _apply(purchase, outcome)
        except purchases_data.VersionConflict:
            continue  # another delivery applied something meanwhile: look again
    raise Unavailable("The purchase is changing fast; retry shortly.")


def _changes(purchase: Purchase, outcome: PurchaseOutcome) -> bool:
    return bool(outcome.effects_due) or (purchase.state, purchase.payout_state, purchase.reward_state) != (
        outcome.state,
        outcome.payout_state,
        outcome.reward_state,
    )


def _stamp(moment: datetime) -> str:
    # Sortable, and the same on every replay of the same fact, so the item id is the idempotency key.
    return moment.strftime("%Y%m%dT%H%M%S.%fZ")


def _apply(purchase: Purchase, outcome: PurchaseOutcome) -> None:
    facts = purchase.facts
    pi = facts.payment_intent_id
    now = utcnow()
    ledger: list[LedgerEntry] = []
    notifications: list[Notification] = []
    activity: list[ActivityEvent] = []
    attribution: ReferralAttribution | None = None
    attribution_state_only = False
    due = set(outcome.effects_due)
    # A succeeded purchase always has these (payments without them are not ours and never get here).
    artist_id, currency = facts.artist_id or "", facts.currency or ""
    paid_at = facts.succeeded_at or now
    handle = facts.buyer_handle or "a fan"
    share = outcome.artist_share or 0
    earning_id = f"{pi}:artist-earning"
    credit_id = f"{pi}:referral-credit"

    if EFFECT_GRANT in due:
        activity.append(
            ActivityEvent(
                artist_id=artist_id,
                id=f"{_stamp(paid_at)}#collect#{pi}",
                kind="COLLECT",
                message=f"@{handle} collected",
                actor_id=facts.buyer_id,
                actor_handle=facts.buyer_handle,
                purchase_id=pi,
                created_at=paid_at,
            )
        )
        notifications.append(
            Notification(
                user_id=artist_id,
                id=f"{_stamp(paid_at)}#collect#{pi}",
                kind="COLLECT",
                message=f"@{handle} collected your casset",
                purchase_id=pi,
                created_at=paid_at,
            )
        )
        ledger.append(
            LedgerEntry(
                id=earning_id,
                account_id=artist_id,
                kind=LEDGER_ARTIST_EARNING,
                amount=share,
                currency=currency,
                purchase_id=pi,
                created_at=paid_at,
            )
        )
    referral = outcome.referral
    if referral and EFFECT_REFERRAL in due:
        attribution = ReferralAttribution(
            purchase_id=pi,
            referrer_id=referral.referrer_id,
            artist_id=artist_id,
            buyer_id=facts.buyer_id or "",
            code=referral.code,
            clicked_at=referral.clicked_at,
            credit=referral.credit,
            reward_state=outcome.reward_state or purchase.reward_state,  # type: ignore[arg-type]
            created_at=paid_at,
        )
        ledger.append(
            LedgerEntry(
                id=credit_id,
                account_id=referral.referrer_id,
                kind=LEDGER_REFERRAL_CREDIT,
                amount=referral.credit.amount,
                currency=referral.credit.currency,
                purchase_id=pi,
                created_at=paid_at,
            )
        )
        notifications.append(
            Notification(
                user_id=referral.referrer_id,
                id=f"{_stamp(paid_at)}#referral#{pi}",
                kind="REFERRAL_CREDIT",
                message=f"@{handle} collected through your link: you're credited",
                purchase_id=pi,
                created_at=paid_at,
            )
        )
    elif referral and outcome.reward_state and outcome.reward_state != purchase.reward_state:
        attribution = referrals_data.get_attribution(pi)
        if attribution:
            attribution = attribution.model_copy(update={"reward_state": outcome.reward_state})
            attribution_state_only = True
    if EFFECT_REFUND in due:
        ledger.append(
            LedgerEntry(
                id=f"{earning_id}:reversal",
                account_id=artist_id,
                kind=LEDGER_ARTIST_EARNING_REVERSAL,
                amount=-share,
                currency=currency,
                purchase_id=pi,
                reverses=earning_id,
                created_at=now,
            )
        )
    if referral and _credit_reversal_due(purchase, due):
        ledger.append(
            LedgerEntry(
                id=f"{credit_id}:reversal",
                account_id=referral.referrer_id,
                kind=LEDGER_REFERRAL_CREDIT_REVERSAL,
                amount=-referral.credit.amount,
                currency=referral.credit.currency,
                purchase_id=pi,
                reverses=credit_id,
                created_at=now,
            )
        )
    disputed_at = facts.disputed_at or now
    if EFFECT_DISPUTE_INQUIRY in due:
        notifications.append(
            Notification(
                user_id=artist_id,
                id=f"{_stamp(disputed_at)}#dispute-inquiry#{pi}",
                kind="DISPUTE_INQUIRY",
                message=(
                    f"The card issuer asked about @{handle}'s payment (an inquiry, not a chargeback): "
                    "access and payout are unaffected. Respond in Stripe."
                ),
                purchase_id=pi,
                created_at=disputed_at,
            )
        )
    if EFFECT_DISPUTE in due:
        notifications.append(
            Notification(
                user_id=artist_id,
                id=f"{_stamp(disputed_at)}#dispute#{pi}",
                kind="DISPUTE",
                message=f"A payment from @{handle} is disputed; its payout is on hold. Respond in Stripe.",
                purchase_id=pi,
                created_at=disputed_at,
            )
        )
    history = dispute_history(facts)
    for status in dispute_closed_statuses(history):
        if dispute_closed_effect(status) not in due:
            continue
        # Dated by the status's own time and worded by the status alone, so the notifications do not
        # depend on the order the events arrived in.
        notifications.append(
            Notification(
                user_id=artist_id,
                id=f"{_stamp(history[status])}#dispute-closed-{status}#{pi}",
                kind="DISPUTE_CLOSED",
                message=_dispute_closed_message(status, handle),
                purchase_id=pi,
                created_at=history[status],
            )
        )
    purchases_data.apply(
        purchase,
        state=outcome.state,
        payout_state=outcome.payout_state,
        reward_state=outcome.reward_state,
        effects=outcome.effects_due,
        ledger=ledger,
        notifications=notifications,
        activity=activity,
        attribution=attribution,
        attribution_state_only=attribution_state_only,
    )


def _credit_reversal_due(purchase: Purchase, due: set[str]) -> bool:
    """The referral credit is reversed once: by a full refund or by a lost dispute, whichever is applied
    first (a dispute seen lost stays a cancelled reward: see rules.dispute_lost)."""
    lost = dispute_closed_effect(DISPUTE_LOST)

    def reverses(effects: set[str] | frozenset[str]) -> bool:
        return EFFECT_REFUND in effects or lost in effects

    return reverses(due) and not reverses(purchase.applied_effects)


# What the artist is told a dispute closed with: one text per closing status (rules.DISPUTE_CLOSED).
DISPUTE_CLOSED_MESSAGES = {
    "won": "The dispute on @{handle}'s payment was won: the hold on access and payout is lifted.",
    "warning_closed": "The inquiry on @{handle}'s payment closed without a chargeback.",
    "prevented": (
        "The dispute on @{handle}'s payment was stopped before it became a chargeback: "
        "access and payout are unaffected (any refund that settled it shows separately)."
    ),
    DISPUTE_LOST: (
        "The dispute on @{handle}'s payment was lost: the money went back to the buyer and their "
        "access stays off. The payout stays on hold."
    ),
}


def _dispute_closed_message(status: str, handle: str) -> str:
    return DISPUTE_CLOSED_MESSAGES[status].format(handle=handle)
