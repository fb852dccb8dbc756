"""Referral links (short codes), clicks (the attribution cookie) and attributions."""

from datetime import timedelta

from casset.data._dynamo import fetch, ready, save_new, translated_errors
from casset.data.tables import ReferralAttributionItem, ReferralClickItem, ReferralLinkItem
from casset.entities import Money, ReferralAttribution, ReferralClick, ReferralLink, RewardState
from casset.errors import Conflict


def create_link(link: ReferralLink) -> ReferralLink:
    ready()
    item = ReferralLinkItem(
        code=link.code,
        referrer_id=link.referrer_id,
        artist_id=link.artist_id,
        artist_handle=link.artist_handle,
        created_at=link.created_at,
    )
    save_new(
        item,
        ReferralLinkItem.code.does_not_exist(),
        Conflict("That referral code is taken.", code="REFERRAL_CODE_TAKEN"),
    )
    return link


def get_link(code: str) -> ReferralLink | None:
    item = fetch(ReferralLinkItem, code)
    if item is None:
        return None
    return ReferralLink(
        code=item.code,
        referrer_id=item.referrer_id,
        artist_id=item.artist_id,
        artist_handle=item.artist_handle,
        created_at=item.created_at,
    )


def record_click(click: ReferralClick, keep_for: timedelta) -> None:
    ready()
    with translated_errors():
        ReferralClickItem(
            id=click.id, code=click.code, clicked_at=click.clicked_at, expires_at=click.clicked_at + keep_for
        ).save()


def get_click(click_id: str) -> ReferralClick | None:
    item = fetch(ReferralClickItem, click_id)
    if item is None:
        return None
    return ReferralClick(id=item.id, code=item.code, clicked_at=item.clicked_at)


def _to_attribution(item: ReferralAttributionItem) -> ReferralAttribution:
    return ReferralAttribution(
        purchase_id=item.purchase_id,
        referrer_id=item.referrer_id,
        artist_id=item.artist_id,
        buyer_id=item.buyer_id,
        code=item.code,
        clicked_at=item.clicked_at,
        credit=Money(amount=int(item.credit_amount), currency=item.credit_currency),
        reward_state=RewardState(item.reward_state),
        created_at=item.created_at,
    )


def attributions_of(referrer_id: str) -> list[ReferralAttribution]:
    ready()
    with translated_errors():
        items = ReferralAttributionItem.by_referrer.query(referrer_id, scan_index_forward=False)
        return [_to_attribution(item) for item in items]


def get_attribution(purchase_id: str) -> ReferralAttribution | None:
    item = fetch(ReferralAttributionItem, purchase_id, consistent_read=True)
    return _to_attribution(item) if item else None
