"""Referral links: a unique short URL per share; opening it records a click whose id becomes the
attribution cookie; a collect within the window credits the referrer (services/purchases.py)."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from casset.clock import utcnow
from casset.data import ledger as ledger_data
from casset.data import referrals as referrals_data
from casset.data import users as users_data
from casset.entities import (
    LedgerEntry,
    Money,
    ReferralAttribution,
    ReferralClick,
    ReferralLink,
    RewardState,
    User,
)
from casset.errors import Conflict, Forbidden
from casset.ids import is_id, new_id
from casset.rules import Caller, within_referral_window
from casset.services import users
from casset.services.purchases import REFERRAL_KINDS
from casset.settings import get_settings

COOKIE_NAME = "ref"
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes get read aloud and retyped
_CODE_LENGTH = 10


@dataclass(frozen=True)
class Referral:
    code: str
    referrer_id: str
    clicked_at: datetime


@dataclass(frozen=True)
class OpenedLink:
    redirect_url: str
    click_id: str | None  # the attribution cookie's value; None for an unknown code
    max_age_sec: int


@dataclass(frozen=True)
class ReferralSummary:
    balances: list[Money]  # credited balance per currency (credits less reversals)
    pending: list[Money]
    frozen: list[Money]
    entries: list[LedgerEntry]
    attributions: list[ReferralAttribution]


def short_url(code: str) -> str:
    return f"{get_settings().short_link_base_url.rstrip('/')}/r/{code}"


def is_code(text: str) -> bool:
    return len(text) == _CODE_LENGTH and all(ch in _CODE_ALPHABET for ch in text)


def create_link(caller: Caller, artist_slug: str) -> ReferralLink:
    referrer = users_data.get_user(caller.require_user())
    if referrer is None:
        raise Forbidden("Create your profile first.", code="PROFILE_REQUIRED")
    artist = users.artist_by_slug(artist_slug)
    for _ in range(3):
        link = ReferralLink(
            code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH)),
            referrer_id=referrer.id,
            artist_id=artist.id,
            artist_handle=artist.handle,
            created_at=utcnow(),
        )
        try:
            return referrals_data.create_link(link)
        except Conflict:
            continue  # 31^10 codes: a collision is rare, three in a row is not going to happen
    raise Conflict("Could not allocate a referral code; try again.", code="REFERRAL_CODE_TAKEN")


def open_link(code: str) -> OpenedLink:
    """Where a short link sends the browser, and the 30-day attribution cookie for a known code."""
    settings = get_settings()
    site = settings.site_url.rstrip("/")
    link = referrals_data.get_link(code) if is_code(code) else None
    window = timedelta(days=settings.referral_window_days)
    if link is None:
        return OpenedLink(redirect_url=site, click_id=None, max_age_sec=0)
    click = ReferralClick(id=new_id(), code=link.code, clicked_at=utcnow())
    referrals_data.record_click(click, keep_for=window + timedelta(days=1))
    return OpenedLink(f"{site}/{link.artist_handle}", click.id, int(window.total_seconds()))


def resolve(
    artist: User, buyer: User, code: str | None, cookie: str | None, now: datetime
) -> Referral | None:
    """The referral a checkout carries: an explicit code (counted from now), else the cookie's click.
    Anything that does not fit (unknown, another artist's link, the buyer's own, out of the window) is
    dropped quietly: a referral never blocks a collect."""
    found: Referral | None = None
    if code and is_code(code.strip().lower()):
        link = referrals_data.get_link(code.strip().lower())
        if link and link.artist_id == artist.id:
            found = Referral(link.code, link.referrer_id, now)
    if found is None and cookie and is_id(cookie):
        click = referrals_data.get_click(cookie)
        link = referrals_data.get_link(click.code) if click else None
        if click and link and link.artist_id == artist.id:
            found = Referral(link.code, link.referrer_id, click.clicked_at)
    if found is None or found.referrer_id in {buyer.id, artist.id}:
        return None
    return (
        found if within_referral_window(found.clicked_at, now, get_settings().referral_window_days) else None
    )


def summary(caller: Caller) -> ReferralSummary:
    user_id = caller.require_user()
    entries = ledger_data.entries_of(user_id, REFERRAL_KINDS)
    attributions = referrals_data.attributions_of(user_id)
    return ReferralSummary(
        balances=_totals((entry.currency, entry.amount) for entry in entries),
        pending=_totals(
            (a.credit.currency, a.credit.amount)
            for a in attributions
            if a.reward_state is RewardState.PENDING
        ),
        frozen=_totals(
            (a.credit.currency, a.credit.amount) for a in attributions if a.reward_state is RewardState.FROZEN
        ),
        entries=entries,
        attributions=attributions,
    )


def _totals(amounts: Iterable[tuple[str, int]]) -> list[Money]:
    totals: dict[str, int] = {}
    for currency, amount in amounts:
        totals[currency] = totals.get(currency, 0) + amount
    return [Money(amount=amount, currency=currency) for currency, amount in sorted(totals.items())]
