"""The V1 visual lifecycle: create (PROCESSING), probe (READY/FAILED), list, activate, archive."""

from contextlib import suppress
from dataclasses import dataclass

from casset import keys
from casset.clock import utcnow
from casset.data import storage
from casset.data import visuals as visuals_data
from casset.data.pages import decode_cursor, encode_cursor
from casset.entities import DeclaredMedia, MediaStatus, Visual, VisualKind
from casset.errors import BadRequest, NotFound
from casset.ids import new_id
from casset.media_types import MediaCategory, media_type
from casset.rules import (
    Caller,
    can_see,
    check_can_activate,
    check_can_archive,
    visual_of_track,
)
from casset.services import uploads
from casset.services.tracks import get_track, owned_track


@dataclass(frozen=True)
class VisualWithUpload:
    visual: Visual
    upload: storage.UploadTarget | None


@dataclass(frozen=True)
class VisualPage:
    items: list[Visual]
    next_cursor: str | None


def create_visual(
    caller: Caller,
    track_id: str,
    content_type: str | None,
    upload_key: str | None,
    declared: DeclaredMedia,
) -> VisualWithUpload:
    """The track's artist adds a visual: PROCESSING until the probe has measured the uploaded file."""
    track = owned_track(caller, track_id)
    if (content_type is None) == (upload_key is None):
        raise BadRequest("Give either contentType or uploadKey.", code="INVALID_VISUAL_SOURCE")
    uploads.check_size(declared.size_bytes)
    visual_id = new_id()
    if upload_key:
        kind, _ = uploads.adopt(caller, upload_key, MediaCategory.VIDEO)
    else:
        kind = media_type(content_type or "", expected=MediaCategory.VIDEO)
    now = utcnow()
    visual = visuals_data.create_visual(
        Visual(
            id=visual_id,
            track_id=track.id,
            kind=VisualKind.ARTIST,
            status=MediaStatus.PROCESSING,
            uploader_user_id=caller.user_id,
            source_key=keys.visual_source(track.id, visual_id, kind),
            content_type=kind.content_type,
            declared=declared,
            created_at=now,
            updated_at=now,
        )
    )
    if upload_key:
        # The record exists first, so the copy's ObjectCreated event finds it.
        storage.copy(upload_key, visual.source_key, kind.content_type)
        return VisualWithUpload(visual, None)
    return VisualWithUpload(visual, uploads.target(visual.source_key, kind))


def get_visual(caller: Caller, visual_id: str) -> Visual:
    visual = visuals_data.get_visual(visual_id)
    if visual is None or not can_see(caller, get_track(visual.track_id), visual):
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    return visual


def list_track_visuals(
    track_id: str, kind: VisualKind | None, active: bool | None, limit: int, cursor: str | None
) -> VisualPage:
    """What fans see: READY visuals in the artist's order."""
    get_track(track_id)
    items, position = visuals_data.list_visuals(
        track_id,
        ready_only=True,
        limit=limit,
        after=decode_cursor(cursor) if cursor else None,
        kind=kind,
        active=active,
    )
    return VisualPage(items, encode_cursor(position) if position else None)


def list_studio_visuals(caller: Caller, track_id: str, limit: int, cursor: str | None) -> VisualPage:
    """What the artist sees: every visual of the track, whatever its status."""
    owned_track(caller, track_id)
    items, position = visuals_data.list_visuals(
        track_id, ready_only=False, limit=limit, after=decode_cursor(cursor) if cursor else None
    )
    return VisualPage(items, encode_cursor(position) if position else None)


def set_active(caller: Caller, track_id: str, visual_id: str, active: bool) -> Visual:
    owned_track(caller, track_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    if active:
        check_can_activate(visual)
        visuals_data.activate(track_id, visual_id)
    else:
        visuals_data.deactivate(track_id, visual_id)
    return _reload(visual_id)


def archive(caller: Caller, track_id: str, visual_id: str) -> Visual:
    owned_track(caller, track_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    check_can_archive(visual)
    visuals_data.archive(visual)
    _tag_objects(visual, {"status": "archived"})
    return _reload(visual_id)


def unarchive(caller: Caller, track_id: str, visual_id: str) -> Visual:
    owned_track(caller, track_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    visuals_data.unarchive(visual)
    _tag_objects(visual, None)
    return _reload(visual_id)


def _tag_objects(visual: Visual, tags: dict[str, str] | None) -> None:
    """Lifecycle rules move archived media to cold storage; no tags puts it back under normal rules."""
    for key in filter(None, (visual.source_key, visual.poster_key)):
        with suppress(NotFound):  # never uploaded: nothing to move
            if tags:
                storage.tag(key, tags)
            else:
                storage.untag(key)


def _reload(visual_id: str) -> Visual:
    visual = visuals_data.get_visual(visual_id)
    if visual is None:
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    return visual
