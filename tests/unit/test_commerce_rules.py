"""Commerce rules: fees in integer minor units, the referral window's edges, transfer reversals, and the
purchase reducer's independence from event order."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casset.entities import Money, PaymentFacts, PayoutState, PurchaseState, RewardState
from casset.errors import BadRequest
from casset.rules import (
    EFFECT_DISPUTE,
    EFFECT_DISPUTE_INQUIRY,
    EFFECT_GRANT,
    EFFECT_REFERRAL,
    EFFECT_REFUND,
    PurchaseOutcome,
    check_price,
    dispute_closed_effect,
    platform_fee,
    referral_credit,
    settle_purchase,
    transfer_reversal_due,
    within_referral_window,
)

PAID = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [
        (1000, 1000, 100),
        (1005, 1000, 101),
        (1004, 1000, 100),
        (999, 1000, 100),
        (1, 1000, 0),
        (5, 1000, 1),
        (0, 1000, 0),
        (12345, 0, 0),
        (12345, 10_000, 12345),
        (99_999_999, 1000, 10_000_000),
    ],
)
def test_platform_fee_is_basis_points_rounded_half_up_in_minor_units(amount: int, bps: int, fee: int) -> None:
    assert platform_fee(amount, bps) == fee
    assert isinstance(platform_fee(amount, bps), int)


def test_platform_fee_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        platform_fee(-1, 1000)
    with pytest.raises(ValueError):
        platform_fee(100, 10_001)


def test_referral_credit_rounds_down() -> None:
    assert referral_credit(1005, 500) == 50
    assert referral_credit(19, 500) == 0


@pytest.mark.parametrize(
    ("elapsed", "inside"),
    [
        (timedelta(0), True),
        (timedelta(days=30) - timedelta(microseconds=1), True),
        (timedelta(days=30), True),
        (timedelta(days=30, microseconds=1), False),
        (timedelta(days=31), False),
        (-timedelta(seconds=1), False),
    ],
)
def test_referral_window_edges(elapsed: timedelta, inside: bool) -> None:
    assert within_referral_window(PAID - elapsed, PAID, 30) is inside


def test_prices_are_checked_and_currencies_normalised() -> None:
    assert check_price(Money(amount=500, currency="usd")) == Money(amount=500, currency="USD")
    for bad in (
        Money(amount=49, currency="USD"),
        Money(amount=500, currency="BTC"),
        Money(amount=10**7, currency="EUR"),
    ):
        with pytest.raises(BadRequest):
            check_price(bad)


def test_transfer_reversal_is_the_refunded_share_less_what_was_reversed() -> None:
    assert transfer_reversal_due(1000, 300, 900, 0) == 270
    assert transfer_reversal_due(1000, 1000, 900, 270) == 630
    assert transfer_reversal_due(1000, 1000, 900, 900) == 0
    assert transfer_reversal_due(1000, 1200, 900, 0) == 900  # never more than the transfer
    assert transfer_reversal_due(0, 0, 0, 0) == 0


def _facts(**changes: object) -> PaymentFacts:
    base = PaymentFacts(payment_intent_id="pi_1")
    return base.model_copy(update=changes)


SUCCEEDED = {
    "succeeded": True,
    "buyer_id": "fan",
    "buyer_handle": "fan",
    "artist_id": "artist",
    "amount": 1000,
    "currency": "USD",
    "application_fee": 100,
    "succeeded_at": PAID,
    "referral_code": "abcdefghjk",
    "referrer_id": "friend",
    "referral_clicked_at": PAID - timedelta(days=2),
}


def _settle(facts: PaymentFacts, applied: frozenset[str] = frozenset()) -> PurchaseOutcome:
    return settle_purchase(facts, applied, window_days=30, credit_bps=500)


def test_a_succeeded_payment_is_granted_with_its_referral() -> None:
    outcome = _settle(_facts(**SUCCEEDED))
    assert (outcome.state, outcome.payout_state, outcome.reward_state) == (
        PurchaseState.GRANTED,
        PayoutState.PENDING,
        RewardState.PENDING,
    )
    assert outcome.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL)
    assert outcome.artist_share == 900 and outcome.referral and outcome.referral.credit.amount == 50


def test_refund_before_payment_waits_then_lands_refunded() -> None:
    assert _settle(_facts(amount=1000, amount_refunded=1000)).state is PurchaseState.PENDING
    outcome = _settle(_facts(**SUCCEEDED, amount_refunded=1000))
    assert outcome.state is PurchaseState.REFUNDED and outcome.payout_state is PayoutState.CANCELLED
    assert outcome.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_REFUND)


def test_refunded_wins_over_disputed_and_payout_settled_wins_over_both() -> None:
    both = _settle(_facts(**SUCCEEDED, amount_refunded=1000, disputed=True))
    assert both.state is PurchaseState.REFUNDED and both.reward_state is RewardState.CANCELLED
    disputed = _settle(_facts(**SUCCEEDED, disputed=True))
    assert (disputed.state, disputed.payout_state, disputed.reward_state) == (
        PurchaseState.DISPUTED,
        PayoutState.FROZEN,
        RewardState.FROZEN,
    )
    assert _settle(_facts(**SUCCEEDED, disputed=True, paid_out_by="po_1")).payout_state is PayoutState.SETTLED


def test_applied_effects_are_not_due_again() -> None:
    outcome = _settle(_facts(**SUCCEEDED, disputed=True), frozenset({EFFECT_GRANT, EFFECT_REFERRAL}))
    assert outcome.effects_due == (EFFECT_DISPUTE,)


@pytest.mark.parametrize("status", ["won", "warning_closed"])
def test_a_dispute_closed_in_the_sellers_favour_restores_access_payout_and_reward(status: str) -> None:
    applied = frozenset({EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_DISPUTE, EFFECT_DISPUTE_INQUIRY})
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_status=status), applied)
    assert (outcome.state, outcome.payout_state, outcome.reward_state) == (
        PurchaseState.GRANTED,
        PayoutState.PENDING,
        RewardState.PENDING,
    )
    assert outcome.effects_due == (dispute_closed_effect(status),)
    paid_out = _settle(_facts(**SUCCEEDED, disputed=True, dispute_status=status, paid_out_by="po_1"))
    assert paid_out.payout_state is PayoutState.SETTLED
    refunded = _settle(_facts(**SUCCEEDED, disputed=True, dispute_status=status, amount_refunded=1000))
    assert (refunded.state, refunded.payout_state, refunded.reward_state) == (
        PurchaseState.REFUNDED,
        PayoutState.CANCELLED,
        RewardState.CANCELLED,
    )


def test_a_lost_dispute_keeps_access_off_and_the_payout_frozen_and_cancels_the_reward() -> None:
    applied = frozenset({EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_DISPUTE})
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_status="lost"), applied)
    assert (outcome.state, outcome.payout_state, outcome.reward_state) == (
        PurchaseState.DISPUTED,
        PayoutState.FROZEN,
        RewardState.CANCELLED,
    )
    assert outcome.effects_due == (dispute_closed_effect("lost"),)


def test_an_unknown_status_freezes_nothing_and_tells_the_artist_nothing() -> None:
    granted = _settle(_facts(**SUCCEEDED, disputed=True, dispute_status="charged_back_somehow"))
    assert (granted.state, granted.payout_state, granted.reward_state) == (
        PurchaseState.GRANTED,
        PayoutState.PENDING,
        RewardState.PENDING,
    )
    assert granted.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL)
    # After a chargeback it decides nothing either: the latest known status still holds.
    history = _seen(needs_response=0, charged_back_somehow=60)
    frozen = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=history))
    assert (frozen.state, frozen.payout_state) == (PurchaseState.DISPUTED, PayoutState.FROZEN)
    assert frozen.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_DISPUTE)


def test_a_prevented_dispute_is_no_chargeback_access_payout_and_reward_stay() -> None:
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=_seen(prevented=60)))
    assert (outcome.state, outcome.payout_state, outcome.reward_state) == (
        PurchaseState.GRANTED,
        PayoutState.PENDING,
        RewardState.PENDING,
    )
    # Told how it ended, never that a payout is on hold.
    assert outcome.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL, dispute_closed_effect("prevented"))
    after_inquiry = _seen(warning_needs_response=0, prevented=60)
    inquired = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=after_inquiry))
    assert inquired.state is PurchaseState.GRANTED
    assert inquired.effects_due[-2:] == (EFFECT_DISPUTE_INQUIRY, dispute_closed_effect("prevented"))


def test_a_status_seen_again_later_is_the_latest() -> None:
    """needs_response, under_review, won, then under_review again (reopened on appeal): under review."""
    observed = ((0, "needs_response"), (60, "under_review"), (120, "won"), (240, "under_review"))
    observations = tuple((PAID + timedelta(seconds=offset), status) for offset, status in observed)
    first_seen = _seen(needs_response=0, under_review=60, won=120)
    facts = _facts(**SUCCEEDED, disputed=True, dispute_history=first_seen, dispute_observations=observations)
    outcome = _settle(facts)
    assert (outcome.state, outcome.payout_state) == (PurchaseState.DISPUTED, PayoutState.FROZEN)
    won_again = (*observations, (PAID + timedelta(seconds=300), "won"))
    assert (
        _settle(facts.model_copy(update={"dispute_observations": won_again})).state is PurchaseState.GRANTED
    )


def test_a_closed_dispute_arriving_first_lands_with_both_dispute_effects() -> None:
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_id="dp_1", dispute_status="won"))
    assert outcome.state is PurchaseState.GRANTED
    assert outcome.effects_due == (
        EFFECT_GRANT,
        EFFECT_REFERRAL,
        EFFECT_DISPUTE,
        dispute_closed_effect("won"),
    )


def _seen(**statuses: int) -> dict[str, datetime]:
    """A dispute history: status -> seconds after the payment it was seen at."""
    return {status: PAID + timedelta(seconds=offset) for status, offset in statuses.items()}


@pytest.mark.parametrize("status", ["warning_needs_response", "warning_under_review"])
def test_an_inquiry_is_not_a_chargeback_access_payout_and_reward_stay(status: str) -> None:
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=_seen(**{status: 60})))
    assert (outcome.state, outcome.payout_state, outcome.reward_state) == (
        PurchaseState.GRANTED,
        PayoutState.PENDING,
        RewardState.PENDING,
    )
    assert outcome.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_DISPUTE_INQUIRY)


def test_an_inquiry_that_escalates_becomes_a_chargeback() -> None:
    history = _seen(warning_needs_response=60, needs_response=120)
    outcome = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=history))
    assert (outcome.state, outcome.payout_state) == (PurchaseState.DISPUTED, PayoutState.FROZEN)
    assert outcome.effects_due == (EFFECT_GRANT, EFFECT_REFERRAL, EFFECT_DISPUTE_INQUIRY, EFFECT_DISPUTE)


def test_the_latest_status_by_time_wins_and_a_tie_goes_to_the_later_stage() -> None:
    appealed = _seen(needs_response=0, lost=60, won=120)  # lost, appealed, won
    won = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=appealed))
    assert (won.state, won.payout_state) == (PurchaseState.GRANTED, PayoutState.PENDING)
    # Once lost, the referral reward stays cancelled (its credit was reversed; lines are never rewritten).
    assert won.reward_state is RewardState.CANCELLED
    assert won.effects_due[-2:] == (dispute_closed_effect("lost"), dispute_closed_effect("won"))
    relost = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=_seen(won=60, lost=120)))
    assert relost.state is PurchaseState.DISPUTED
    same_second = _settle(_facts(**SUCCEEDED, disputed=True, dispute_history=_seen(needs_response=5, won=5)))
    assert same_second.state is PurchaseState.GRANTED


def test_self_referral_and_stale_clicks_attribute_nothing() -> None:
    assert _settle(_facts(**SUCCEEDED | {"referrer_id": "fan"})).referral is None
    assert (
        _settle(_facts(**SUCCEEDED | {"referral_clicked_at": PAID - timedelta(days=30, seconds=1)})).referral
        is None
    )


# Each event only adds facts, so folding them in any order gives the same facts and the same outcome.
EVENTS: dict[str, dict[str, object]] = {
    "succeeded": SUCCEEDED,
    "partial_refund": {"amount": 1000, "currency": "USD", "amount_refunded": 300},
    "full_refund": {"amount": 1000, "currency": "USD", "amount_refunded": 1000},
    "dispute": {"disputed": True, "dispute_id": "dp_1"},
    "payout": {"paid_out_by": "po_1"},
}


def _fold(order: list[str], events: dict[str, dict[str, object]] = EVENTS) -> PaymentFacts:
    facts = PaymentFacts(payment_intent_id="pi_1")
    for name in order:
        current = facts.model_dump()
        for key, value in events[name].items():
            if key == "amount_refunded":
                current[key] = max(current[key], value)
            elif key == "dispute_history":
                seen = dict(current[key])
                for status, at in value.items():  # type: ignore[attr-defined]
                    seen[status] = min(seen.get(status, at), at)
                current[key] = seen
            elif current[key] in (None, False, 0):
                current[key] = value
        facts = PaymentFacts(**current)
    return facts


@given(st.permutations(list(EVENTS)), st.lists(st.sampled_from(list(EVENTS)), max_size=4))
def test_the_outcome_does_not_depend_on_event_order(order: list[str], duplicates: list[str]) -> None:
    reference = _settle(_fold(list(EVENTS)))
    assert _settle(_fold(order + duplicates)) == reference


@pytest.mark.parametrize(
    ("final", "expected"), [("won", PurchaseState.GRANTED), ("lost", PurchaseState.DISPUTED)]
)
@given(data=st.data())
def test_a_dispute_whose_status_moves_converges_in_any_order(
    final: str, expected: PurchaseState, data: st.DataObject
) -> None:
    other = "lost" if final == "won" else "won"
    events: dict[str, dict[str, object]] = {
        "succeeded": SUCCEEDED,
        "partial_refund": {"amount": 1000, "currency": "USD", "amount_refunded": 300},
        "dispute": {"disputed": True, "dispute_id": "dp_1", "dispute_history": _seen(needs_response=0)},
        "closed": {"disputed": True, "dispute_id": "dp_1", "dispute_history": _seen(**{other: 60})},
        "appealed": {"disputed": True, "dispute_id": "dp_1", "dispute_history": _seen(**{final: 120})},
    }
    order = data.draw(st.permutations(list(events)))
    duplicates = data.draw(st.lists(st.sampled_from(list(events)), max_size=3))
    reference = _settle(_fold(list(events), events))
    assert reference.state is expected
    assert _settle(_fold(order + duplicates, events)) == reference


def test_every_closing_status_has_its_text_for_the_artist() -> None:
    from casset.rules import DISPUTE_CLOSED
    from casset.services.purchases import DISPUTE_CLOSED_MESSAGES

    assert set(DISPUTE_CLOSED_MESSAGES) == DISPUTE_CLOSED
