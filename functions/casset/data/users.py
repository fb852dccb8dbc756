"""Users and artist profiles. A handle is claimed in the same transaction that creates its user."""

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError

from casset.clock import utcnow
from casset.data._dynamo import cancellation_codes, ready, set_or_remove, transaction, translated_errors
from casset.data.tables import HandleItem, UserItem
from casset.entities import User
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
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_user(user_id: str) -> User | None:
    ready()
    with translated_errors():
        try:
            return _to_user(UserItem.get(user_id))
        except DoesNotExist:
            return None


def get_user_by_handle(handle: str) -> User | None:
    ready()
    with translated_errors():
        try:
            claim = HandleItem.get(handle)
        except DoesNotExist:
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
    ready()
    item = UserItem(id=user_id)
    actions = set_or_remove(UserItem, changes)
    actions.append(UserItem.updated_at.set(utcnow()))
    with translated_errors():
        try:
            item.update(actions=actions, condition=UserItem.id.exists())
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                raise NotFound("No such user.", code="USER_NOT_FOUND") from error
            raise
    return _to_user(item)
