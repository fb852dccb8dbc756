"""Hook shares (/s/{id}): written once under a new short id, read by key."""

from casset.data._dynamo import fetch, ready, save_new
from casset.data.tables import HookShareItem
from casset.entities import HookShare
from casset.errors import Conflict


def create_share(share: HookShare) -> HookShare:
    """Put the share only if its id is new; a taken id raises Conflict(SHARE_ID_TAKEN)."""
    ready()
    item = HookShareItem(
        id=share.id,
        track_id=share.track_id,
        hook_start_sec=share.hook_start_sec,
        visual_id=share.visual_id,
        sharer_user_id=share.sharer_user_id,
        referral_code=share.referral_code,
        created_at=share.created_at,
    )
    save_new(
        item,
        HookShareItem.id.does_not_exist(),
        Conflict("That share id is taken.", code="SHARE_ID_TAKEN"),
    )
    return share


def get_share(share_id: str) -> HookShare | None:
    item = fetch(HookShareItem, share_id)
    if item is None:
        return None
    return HookShare(
        id=item.id,
        track_id=item.track_id,
        hook_start_sec=float(item.hook_start_sec),
        visual_id=item.visual_id,
        sharer_user_id=item.sharer_user_id,
        referral_code=item.referral_code,
        created_at=item.created_at,
    )
