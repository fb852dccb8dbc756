"""Users and artist profiles. A handle is claimed in the same transaction that creates its user."""

from datetime import datetime

from pynamodb.exceptions import TransactWriteError

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
from casset.data.tables import HandleItem, UserItem
from casset.entities import Money, User
from casset.errors import Conflict, NotFound


def _to_user(item: UserItem) -> User:
    return User(
        id=item.id,
        handle=item.handle,
        display_name=item.display_name,
        bio=item.bio,
        avatar_key=item.avatar_key,
        is_artist=item.is_artist,
        stripe_account_id=item.stripe_account_id,
        stripe_onboarding_complete=item.stripe_onboarding_complete,
        collect_price=Money(amount=int(item.collect_price_amount), currency=item.collect_price_currency)
        if item.collect_price_amount is not None and item.collect_price_currency
        else None,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_user(user_id: str) -> User | None:
    item = fetch(UserItem, user_id)
    return _to_user(item) if item else None


def get_user_by_handle(handle: str) -> User | None:
    claim = fetch(HandleItem, handle)
    if claim is None:
        return None
    return get_user(claim.user_id)


def create_user(user_id: str, handle: str, display_name: str, bio: str | None, is_artist: bool) -> User:
    now = utcnow()
    item = UserItem(
        id=user_id,
        handle=handle,
        display_name=display_name,
        bio=bio,
        is_artist=is_artist,
        created_at=now,
        updated_at=now,
    )
    try:
        with translated_errors(), transaction() as writer:
            writer.save(item, condition=UserItem.id.does_not_exist())
            writer.save(
                HandleItem(handle=handle, user_id=user_id), condition=HandleItem.handle.does_not_exist()
            )
    except TransactWriteError as error:
        user_exists, handle_taken = (code == "ConditionalCheckFailed" for code in cancellation_codes(error))
        if user_exists:
            raise Conflict("You already have a profile.", code="PROFILE_EXISTS") from error
        if handle_taken:
            raise Conflict(f"The handle @{handle} is taken.", code="HANDLE_TAKEN") from error
        raise
    return _to_user(item)


def update_user(user_id: str, **changes: object) -> User:
    """Set the given attributes (snake_case names of UserItem) on an existing user."""
    item = UserItem(id=user_id)
    actions = [*set_or_remove(UserItem, changes), UserItem.updated_at.set(utcnow())]
    if not update_if(item, actions, UserItem.id.exists()):
        raise NotFound("No such user.", code="USER_NOT_FOUND")
    return _to_user(item)


def set_collect_price(user_id: str, price: Money) -> User:
    return update_user(user_id, collect_price_amount=price.amount, collect_price_currency=price.currency)


def attach_stripe_account(user_id: str, account_id: str) -> User:
    """Record the connected account once; a concurrent second connect keeps the first account."""
    update_if(
        UserItem(id=user_id),
        [UserItem.stripe_account_id.set(account_id), UserItem.updated_at.set(utcnow())],
        UserItem.id.exists()
        & (UserItem.stripe_account_id.does_not_exist() | (UserItem.stripe_account_id == account_id)),
    )
    user = get_user(user_id)
    if user is None:
        raise NotFound("No such user.", code="USER_NOT_FOUND")
    return user


def user_id_for_stripe_account(account_id: str) -> str | None:
    ready()
    with translated_errors():
        for item in UserItem.by_stripe_account.query(account_id, limit=1):
            return str(item.id)
    return None


def connected_account_ids() -> list[str]:
    """Every connected account we know (a scan of the sparse index: for the scheduled reconciliation,
    never on a request path)."""
    ready()
    with translated_errors():
        return sorted({str(item.stripe_account_id) for item in UserItem.by_stripe_account.scan()})


def sync_onboarding(user_id: str, account_id: str, complete: bool, as_of: datetime) -> bool:
    """stripeOnboardingComplete as read from Stripe at `as_of`, unless a later read already set it."""
    ready()
    condition = (UserItem.stripe_account_id == account_id) & (
        UserItem.stripe_account_synced_at.does_not_exist() | (UserItem.stripe_account_synced_at <= as_of)
    )
    return update_if(
        UserItem(id=user_id),
        [
            UserItem.stripe_onboarding_complete.set(complete),
            UserItem.stripe_account_synced_at.set(as_of),
            UserItem.updated_at.set(utcnow()),
        ],
        condition,
    )
