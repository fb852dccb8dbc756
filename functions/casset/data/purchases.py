"""Purchases: one item per PaymentIntent. Stripe events add facts with commutative updates (set once, or
grow), and `apply` writes what follows from the facts (state, entitlement, ledger lines, attribution,
activity, notifications) in one transaction conditioned on the item's version. Two deliveries racing
each other therefore commit one effect set between them: the loser re-reads and finds nothing left to do."""

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from casset.clock import utcnow
from casset.data._dynamo import (
    cancellation_codes,
    fetch,
    ready,
    set_or_remove,
    transaction,
    translated_errors,
    update_if,
)
from casset.data.tables import (
    ActivityItem,
    LedgerEntryItem,
    NotificationCounterItem,
    NotificationItem,
    PurchaseItem,
    ReferralAttributionItem,
)
from casset.entities import (
    ActivityEvent,
    LedgerEntry,
    Notification,
    PaymentFacts,
    PayoutState,
    Purchase,
    PurchaseState,
    ReferralAttribution,
    RewardState,
)
from casset.rules import EFFECT_DISPUTE_CLOSED, dispute_closed_effect


class VersionConflict(Exception):
    """Someone else applied effects to this purchase since it was read."""


def _to_purchase(item: PurchaseItem) -> Purchase:
    now = utcnow()
    facts = PaymentFacts(
        payment_intent_id=item.id,
        succeeded=bool(item.succeeded),
        buyer_id=item.buyer_id,
        buyer_handle=item.buyer_handle,
        artist_id=item.artist_id,
        amount=int(item.amount) if item.amount is not None else None,
        currency=item.currency,
        application_fee=int(item.application_fee) if item.application_fee is not None else None,
        charge_id=item.charge_id,
        succeeded_at=item.succeeded_at,
        referral_code=item.referral_code,
        referrer_id=item.referrer_id,
        referral_clicked_at=item.referral_clicked_at,
        amount_refunded=int(item.amount_refunded or 0),
        disputed=bool(item.disputed),
        dispute_id=item.dispute_id,
        disputed_at=item.disputed_at,
        dispute_status=item.dispute_status,
        dispute_history=_dispute_history(
            item.dispute_statuses or set(), item.dispute_status, item.disputed_at
        ),
        dispute_observations=_dispute_observations(
            item.dispute_statuses or set(), item.dispute_status, item.disputed_at
        ),
        referral_dropped=item.referral_dropped,
        paid_out_by=item.paid_out_by,
    )
    applied = set(item.applied_effects or ())
    if EFFECT_DISPUTE_CLOSED in applied and item.dispute_status:
        # Applied before closing effects were named by status: it told the artist about this one.
        applied.add(dispute_closed_effect(item.dispute_status))
    return Purchase(
        facts=facts,
        state=PurchaseState(item.state) if item.state else PurchaseState.PENDING,
        payout_state=PayoutState(item.payout_state) if item.payout_state else None,
        reward_state=RewardState(item.reward_state) if item.reward_state else None,
        applied_effects=frozenset(applied),
        version=int(item.version or 0),
        created_at=item.created_at or now,
        updated_at=item.updated_at or now,
    )


def _dispute_observation(status: str, at: datetime) -> str:
    return f"{int(at.timestamp()):012d}#{status}"


def _dispute_observations(
    observations: set[str], legacy_status: str | None, disputed_at: datetime | None
) -> tuple[tuple[datetime, str], ...]:
    """Every (time, status) stored, oldest first. A status stored before the history was kept (set once,
    when the dispute closed) counts as seen when the dispute was created, unless it was also seen later."""
    seen = []
    for observation in observations:
        epoch, _, status = observation.partition("#")
        seen.append((datetime.fromtimestamp(int(epoch), UTC), status))
    if legacy_status and all(status != legacy_status for _, status in seen):
        seen.append((disputed_at or datetime.fromtimestamp(0, UTC), legacy_status))
    return tuple(sorted(seen))


def _dispute_history(
    observations: set[str], legacy_status: str | None, disputed_at: datetime | None
) -> dict[str, datetime]:
    """status -> the earliest time it was seen (what dates its notification; the latest observation of
    all, not of each status, decides the state: rules.latest_dispute_status)."""
    history: dict[str, datetime] = {}
    for at, status in _dispute_observations(observations, legacy_status, disputed_at):
        history.setdefault(status, at)
    return history


def get_purchase(payment_intent_id: str) -> Purchase | None:
    item = fetch(PurchaseItem, payment_intent_id, consistent_read=True)
    return _to_purchase(item) if item else None


def _upsert(payment_intent_id: str, actions: list[Action], condition: Condition | None = None) -> bool:
    """Create-or-update; False when the condition says the fact is already there (or superseded).

    A new fact bumps the version too, so an `apply` computed from the facts before it cannot commit."""
    ready()
    now = utcnow()
    actions = [
        *actions,
        PurchaseItem.version.add(1),
        PurchaseItem.created_at.set(PurchaseItem.created_at | now),
        PurchaseItem.updated_at.set(now),
    ]
    return update_if(PurchaseItem(id=payment_intent_id), actions, condition)


def record_success(facts: PaymentFacts) -> None:
    """payment_intent.succeeded: the buyer, artist, amounts and referral, each set once."""
    values = {
        "succeeded": True,
        "buyer_id": facts.buyer_id,
        "buyer_handle": facts.buyer_handle,
        "artist_id": facts.artist_id,
        "amount": facts.amount,
        "currency": facts.currency,
        "application_fee": facts.application_fee,
        "charge_id": facts.charge_id,
        "succeeded_at": facts.succeeded_at,
        "referral_code": facts.referral_code,
        "referrer_id": facts.referrer_id,
        "referral_clicked_at": facts.referral_clicked_at,
        "referral_dropped": facts.referral_dropped,
    }
    if facts.buyer_id and facts.artist_id:
        values["buyer_artist"] = f"{facts.buyer_id}#{facts.artist_id}"
    actions: list[Action] = [
        getattr(PurchaseItem, name).set(getattr(PurchaseItem, name) | value)
        for name, value in values.items()
        if value is not None
    ]
    _upsert(facts.payment_intent_id, actions)


def record_refund(
    payment_intent_id: str, amount: int, currency: str, amount_refunded: int, charge_id: str
) -> bool:
    """charge.refunded carries the charge's cumulative amount_refunded: keep the largest seen."""
    actions: list[Action] = [
        PurchaseItem.amount_refunded.set(amount_refunded),
        PurchaseItem.amount.set(PurchaseItem.amount | amount),
        PurchaseItem.currency.set(PurchaseItem.currency | currency),
        PurchaseItem.charge_id.set(PurchaseItem.charge_id | charge_id),
    ]
    grows = PurchaseItem.amount_refunded.does_not_exist() | (PurchaseItem.amount_refunded < amount_refunded)
    return _upsert(payment_intent_id, actions, grows)


def record_dispute(
    payment_intent_id: str,
    dispute_id: str,
    disputed_at: datetime,
    charge_id: str,
    status: str,
    status_at: datetime,
) -> None:
    """A dispute's facts, from any of its events in any order: who and when, set once, and the status
    it was in at `status_at` (the event's time), added to the set of statuses seen."""
    actions: list[Action] = [
        PurchaseItem.disputed.set(True),
        PurchaseItem.dispute_id.set(PurchaseItem.dispute_id | dispute_id),
        PurchaseItem.disputed_at.set(PurchaseItem.disputed_at | disputed_at),
        PurchaseItem.charge_id.set(PurchaseItem.charge_id | charge_id),
        PurchaseItem.dispute_statuses.add({_dispute_observation(status, status_at)}),
    ]
    _upsert(payment_intent_id, actions)


def purchase_id_for_charge(charge_id: str) -> str | None:
    """The purchase (PaymentIntent id) whose charge this is, from what its events stored; None if no
    event of it carried the charge yet."""
    ready()
    with translated_errors():
        for item in PurchaseItem.by_charge.query(charge_id, limit=1):
            return str(item.id)
    return None


def record_paid_out(payment_intent_id: str, payout_id: str) -> None:
    _upsert(payment_intent_id, [PurchaseItem.paid_out_by.set(PurchaseItem.paid_out_by | payout_id)])


def apply(
    purchase: Purchase,
    *,
    state: PurchaseState,
    payout_state: PayoutState | None,
    reward_state: RewardState | None,
    effects: Sequence[str],
    ledger: Sequence[LedgerEntry] = (),
    notifications: Sequence[Notification] = (),
    activity: Sequence[ActivityEvent] = (),
    attribution: ReferralAttribution | None = None,
    attribution_state_only: bool = False,
) -> None:
    """Write the derived state and the new effects at once, if nobody did since `purchase` was read.

    Ledger lines, notifications and activity are put only where their deterministic id is free: the
    ledger is append-only and never overwritten. Raises VersionConflict when the purchase moved on."""
    now = utcnow()
    facts = purchase.facts
    actions: list[Action] = [
        PurchaseItem.state.set(state.value),
        PurchaseItem.version.set(purchase.version + 1),
        PurchaseItem.updated_at.set(now),
        *set_or_remove(
            PurchaseItem,
            {
                "payout_state": payout_state.value if payout_state else None,
                "reward_state": reward_state.value if reward_state else None,
            },
        ),
    ]
    if effects:
        actions.append(PurchaseItem.applied_effects.add(set(effects)))
    unchanged = (
        PurchaseItem.version.does_not_exist()
        if purchase.version == 0
        else PurchaseItem.version == purchase.version
    )
    try:
        with translated_errors(), transaction() as writer:
            writer.update(PurchaseItem(id=facts.payment_intent_id), actions=actions, condition=unchanged)
            for entry in ledger:
                writer.save(_ledger_item(entry), condition=LedgerEntryItem.id.does_not_exist())
            for notification in notifications:
                writer.save(_notification_item(notification), condition=NotificationItem.id.does_not_exist())
            # One counter update per user (a transaction touches an item once), in the same transaction as
            # the notifications, so the bell's unread count moves exactly when they are written.
            for user_id, added in Counter(notification.user_id for notification in notifications).items():
                writer.update(
                    NotificationCounterItem(user_id=user_id),
                    actions=[NotificationCounterItem.unread.add(added)],
                )
            for event in activity:
                writer.save(_activity_item(event), condition=ActivityItem.id.does_not_exist())
            if attribution and not attribution_state_only:
                writer.save(
                    _attribution_item(attribution),
                    condition=ReferralAttributionItem.purchase_id.does_not_exist(),
                )
            elif attribution:
                writer.update(
                    ReferralAttributionItem(purchase_id=attribution.purchase_id),
                    actions=[ReferralAttributionItem.reward_state.set(attribution.reward_state.value)],
                    condition=ReferralAttributionItem.purchase_id.exists(),
                )
    except TransactWriteError as error:
        # Any failed condition means another delivery got there first: the purchase's version moved, or
        # an effect with this deterministic id is already written. Either way, re-read and converge.
        codes = cancellation_codes(error)
        if "ConditionalCheckFailed" in codes or "TransactionConflict" in codes:
            raise VersionConflict(facts.payment_intent_id) from error
        raise


def _ledger_item(entry: LedgerEntry) -> LedgerEntryItem:
    return LedgerEntryItem(
        id=entry.id,
        account_id=entry.account_id,
        kind=entry.kind,
        amount=entry.amount,
        currency=entry.currency,
        purchase_id=entry.purchase_id,
        reverses=entry.reverses,
        created_at=entry.created_at,
    )


def _notification_item(notification: Notification) -> NotificationItem:
    return NotificationItem(
        user_id=notification.user_id,
        id=notification.id,
        kind=notification.kind,
        message=notification.message,
        purchase_id=notification.purchase_id,
        read=False,
        created_at=notification.created_at,
    )


def _activity_item(event: ActivityEvent) -> ActivityItem:
    return ActivityItem(
        artist_id=event.artist_id,
        id=event.id,
        kind=event.kind,
        message=event.message,
        actor_id=event.actor_id,
        actor_handle=event.actor_handle,
        purchase_id=event.purchase_id,
        created_at=event.created_at,
    )


def _attribution_item(attribution: ReferralAttribution) -> ReferralAttributionItem:
    return ReferralAttributionItem(
        purchase_id=attribution.purchase_id,
        referrer_id=attribution.referrer_id,
        artist_id=attribution.artist_id,
        buyer_id=attribution.buyer_id,
        code=attribution.code,
        clicked_at=attribution.clicked_at,
        credit_amount=attribution.credit.amount,
        credit_currency=attribution.credit.currency,
        reward_state=attribution.reward_state.value,
        created_at=attribution.created_at,
    )


def granted_purchase_id(buyer_id: str, artist_id: str) -> str | None:
    """The id of a GRANTED purchase of this fan for this artist, or None.

    The index only names candidates (it lags the table by a moment); each candidate is then read with a
    consistent read, so a refund or dispute ends entitlement on the very next request."""
    ready()
    with translated_errors():
        candidates = [item.id for item in PurchaseItem.by_buyer_artist.query(f"{buyer_id}#{artist_id}")]
        for purchase_id in candidates:
            try:
                item = PurchaseItem.get(purchase_id, consistent_read=True, attributes_to_get=["state"])
            except DoesNotExist:
                continue
            if item.state == PurchaseState.GRANTED.value:
                return purchase_id
    return None
