"""Profiles: a user (the JWT subject) with a unique handle, optionally an artist."""

from casset import keys
from casset.data import storage
from casset.data import users as users_data
from casset.entities import User
from casset.errors import NotFound
from casset.media_types import MediaCategory
from casset.rules import Caller, handle_to_look_up, normalise_handle
from casset.services import uploads


def create_profile(caller: Caller, handle: str, display_name: str, bio: str | None, is_artist: bool) -> User:
    return users_data.create_user(
        caller.require_user(), normalise_handle(handle), display_name, bio, is_artist
    )


def my_profile(caller: Caller) -> User:
    user = users_data.get_user(caller.require_user())
    if user is None:
        raise NotFound("You have no profile yet; create one with POST /api/users.", code="PROFILE_NOT_FOUND")
    return user


def public_profile(handle: str) -> User:
    folded = handle_to_look_up(handle)
    user = users_data.get_user_by_handle(folded) if folded else None
    if user is None:
        raise NotFound(f"No one is called @{handle}.", code="USER_NOT_FOUND")
    return user


def update_profile(caller: Caller, changes: dict[str, object], avatar_upload_key: str | None) -> User:
    me = my_profile(caller)
    if avatar_upload_key:
        kind, upload_id = uploads.adopt(caller, avatar_upload_key, MediaCategory.IMAGE)
        avatar_key = keys.user_avatar(me.id, upload_id, kind)
        storage.copy(avatar_upload_key, avatar_key, kind.content_type)
        changes = {**changes, "avatar_key": avatar_key}
    if not changes:
        return me
    return users_data.update_user(me.id, **changes)


def artist_by_slug(slug: str) -> User:
    """An artist by the slug of their page (their handle)."""
    handle = handle_to_look_up(slug)
    artist = users_data.get_user_by_handle(handle) if handle else None
    if artist is None or not artist.is_artist:
        raise NotFound(f"No artist is called @{slug}.", code="ARTIST_NOT_FOUND")
    return artist
