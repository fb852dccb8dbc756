"""A track's visual library: add (upload or reuse), describe, order, list, activate, archive, suggest."""

from collections.abc import Collection
from contextlib import suppress
from dataclasses import dataclass

from casset import keys, positions, suggestions, tags
from casset.clock import utcnow
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.data import visuals as visuals_data
from casset.data.pages import decode_cursor, encode_cursor
from casset.entities import DeclaredMedia, MediaStatus, Metrics, Track, Visual, VisualKind
from casset.errors import BadRequest, Conflict, NotFound
from casset.flags import Feature, require_for
from casset.ids import derived_id, new_id
from casset.media_types import MediaCategory, media_type
from casset.rules import (
    Caller,
    check_can_activate,
    check_can_archive,
    check_can_reuse,
    visible_visual,
    visual_of_track,
)
from casset.services import stalled_media, uploads
from casset.services.tracks import get_track, owned_track
from casset.suggestions import Suggestion

V1, V2 = Feature.VISUAL_PAIRING_V1, Feature.VISUAL_PAIRING_V2
# How many candidates suggestions rank: the track's library and the artist's most recent uploads.
SUGGESTION_POOL = 200


@dataclass(frozen=True)
class VisualWithUpload:
    visual: Visual
    upload: storage.UploadTarget | None


@dataclass(frozen=True)
class VisualPage:
    items: list[Visual]
    next_cursor: str | None


@dataclass(frozen=True)
class VisualSource:
    """Where a new visual's media comes from: exactly one of the three."""

    content_type: str | None = None  # a fresh upload: answered with a presigned POST
    upload_key: str | None = None  # an earlier /api/upload/media upload, copied into place
    reuse_visual_id: str | None = None  # an earlier visual of the caller's, shared without copying


@dataclass(frozen=True)
class Description:
    tag_texts: list[str] | None = None
    bpm_min: int | None = None
    bpm_max: int | None = None


def create_visual(
    caller: Caller,
    track_id: str,
    source: VisualSource,
    declared: DeclaredMedia,
    description: Description = Description(),
) -> VisualWithUpload:
    """The track's artist adds a visual at the end of the library: PROCESSING until the probe has measured
    the uploaded file, or READY at once when it reuses one of their earlier uploads."""
    track = owned_track(caller, track_id)
    require_for(V1, caller, track.artist_id)
    described = description != Description()
    if source.reuse_visual_id or described:
        require_for(V2, caller, track.artist_id)
    given = (source.content_type, source.upload_key, source.reuse_visual_id)
    if sum(value is not None for value in given) != 1:
        raise BadRequest(
            "Give exactly one of contentType, uploadKey or reuseVisualId.", code="INVALID_VISUAL_SOURCE"
        )
    tag_slugs = tags.normalise_tags(description.tag_texts or [])
    tags.check_bpm_range(description.bpm_min, description.bpm_max)
    if source.reuse_visual_id:
        return VisualWithUpload(_reuse(caller, track, source.reuse_visual_id, description, tag_slugs), None)
    uploads.check_size(declared.size_bytes)
    visual_id = new_id()
    if source.upload_key:
        kind, _ = uploads.adopt(caller, source.upload_key, MediaCategory.VIDEO)
    else:
        kind = media_type(source.content_type or "", expected=MediaCategory.VIDEO)
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
            tags=tag_slugs,
            bpm_min=description.bpm_min,
            bpm_max=description.bpm_max,
            position=_next_position(track.id),
            upload_deadline=(
                stalled_media.deadline_for_copy(now)
                if source.upload_key
                else stalled_media.deadline_for_presigned_upload(now)
            ),
            created_at=now,
            updated_at=now,
        )
    )
    if source.upload_key:
        # The record exists first, so the copy's ObjectCreated event finds it.
        try:
            storage.copy(source.upload_key, visual.source_key, kind.content_type)
        except Exception:
            stalled_media.visual_copy_failed(visual.id)
            raise
        return VisualWithUpload(visual, None)
    return VisualWithUpload(visual, uploads.target(visual.source_key, kind))


def _reuse(
    caller: Caller, track: Track, original_id: str, description: Description, tag_slugs: list[str]
) -> Visual:
    """A new visual on this track sharing an earlier upload's media object and probe figures."""
    found = visuals_data.get_visual(original_id)
    if found is not None:  # someone else's unready visual is not found here either, as when read
        _visible(caller, found)
    original = check_can_reuse(caller, found)
    root_id = original.reused_from or original.id
    _check_media_not_live_on(track.id, original.source_key)
    now = utcnow()
    reused = original.model_copy(
        update={
            # One id per (track, media): a second reuse racing this one, or a double click, collides.
            "id": derived_id("reuse", track.id, original.source_key),
            "track_id": track.id,
            "status": MediaStatus.READY,
            "uploader_user_id": caller.user_id,
            "is_active": False,
            "metrics": Metrics(),
            "archived_from": None,
            # The original's description unless the request gives its own.
            "tags": tag_slugs if description.tag_texts is not None else original.tags,
            "bpm_min": description.bpm_min if description.bpm_min is not None else original.bpm_min,
            "bpm_max": description.bpm_max if description.bpm_max is not None else original.bpm_max,
            "position": _next_position(track.id),
            "reused_from": root_id,
            "created_at": now,
            "updated_at": now,
        }
    )
    try:
        created = visuals_data.create_visual(reused)
    except Conflict as error:
        raise Conflict(
            "This media is already in the track's library (unarchive it if it was archived).",
            code="VISUAL_ALREADY_ON_TRACK",
        ) from error
    _tag_objects(created, None)  # an archived original's media may have been marked for cold storage
    return created


def _check_media_not_live_on(track_id: str, source_key: str, except_id: str | None = None) -> None:
    """The same media is live (not archived) at most once per track."""
    if any(
        user.track_id == track_id and user.visual_id != except_id and user.status is not MediaStatus.ARCHIVED
        for user in visuals_data.sharing_media(source_key)
    ):
        raise Conflict("This visual is already in the track's library.", code="VISUAL_ALREADY_ON_TRACK")


def _next_position(track_id: str) -> str:
    return positions.between(visuals_data.last_position(track_id), None)


def describe(
    caller: Caller, track_id: str, visual_id: str, description: Description, given: Collection[str]
) -> Visual:
    """Set tags and BPM range. `given` names the fields the request carried ("tags", "bpm_min",
    "bpm_max"): each replaces the stored value, null or [] clearing it; what the request leaves out stays."""
    require_for(V2, caller, owned_track(caller, track_id).artist_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    tag_slugs = tags.normalise_tags(description.tag_texts or []) if "tags" in given else visual.tags
    bpm_min = description.bpm_min if "bpm_min" in given else visual.bpm_min
    bpm_max = description.bpm_max if "bpm_max" in given else visual.bpm_max
    tags.check_bpm_range(bpm_min, bpm_max)
    return visuals_data.describe(visual, tag_slugs, bpm_min, bpm_max)


def move(caller: Caller, track_id: str, visual_id: str, after_visual_id: str | None) -> Visual:
    """Place a visual right after another of the same track (None: first). Only the moved visual's
    position changes, so every other visual keeps its place."""
    require_for(V2, caller, owned_track(caller, track_id).artist_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    if after_visual_id == visual_id:
        raise BadRequest("A visual cannot be placed after itself.", code="INVALID_POSITION")
    visuals_data.place_unpositioned(track_id)  # a library started before V2 gets positions first
    before = (
        visual_of_track(visuals_data.get_visual(after_visual_id), track_id).position
        if after_visual_id
        else None
    )
    after = visuals_data.position_after(track_id, before, visual.id)
    return visuals_data.move(visual, positions.between(before, after))


def get_visual(caller: Caller, visual_id: str) -> Visual:
    return get_visual_and_track(caller, visual_id)[0]


def get_visual_and_track(caller: Caller, visual_id: str) -> tuple[Visual, Track]:
    """A visual the caller may see, with its track (whose artist the feature flags are asked about)."""
    visual = visuals_data.get_visual(visual_id)
    if visual is None:
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    track = _visible(caller, visual)
    require_for(V1, caller, track.artist_id)
    return visual, track


def _visible(caller: Caller, visual: Visual) -> Track:
    """The track of a visual the caller may see (casset.rules.visible_visual). A visual whose track is
    gone is not found either: answering TRACK_NOT_FOUND would tell that the visual id exists."""
    track = tracks_data.get_track(visual.track_id)
    if track is None:
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    visible_visual(caller, track, visual)
    return track


def list_track_visuals(
    caller: Caller,
    track_id: str,
    kind: VisualKind | None,
    active: bool | None,
    limit: int,
    cursor: str | None,
    tag_texts: list[str] | None = None,
    bpm: int | None = None,
) -> VisualPage:
    """What fans see (the switcher): READY visuals in the artist's order, optionally filtered."""
    require_for(V2, caller, get_track(track_id).artist_id)
    if bpm is not None:
        tags.check_bpm_range(bpm, bpm)
    items, position = visuals_data.list_visuals(
        track_id,
        ready_only=True,
        limit=limit,
        after=decode_cursor(cursor) if cursor else None,
        kind=kind,
        active=active,
        tag_slugs=tags.normalise_tags(tag_texts) if tag_texts else None,
        bpm=bpm,
    )
    return VisualPage(items, encode_cursor(position) if position else None)


def list_studio_visuals(caller: Caller, track_id: str, limit: int, cursor: str | None) -> VisualPage:
    """What the artist sees: every visual of the track in their order, whatever its status."""
    require_for(V1, caller, owned_track(caller, track_id).artist_id)
    items, position = visuals_data.list_visuals(
        track_id, ready_only=False, limit=limit, after=decode_cursor(cursor) if cursor else None
    )
    return VisualPage(items, encode_cursor(position) if position else None)


def list_uploads(caller: Caller, limit: int, cursor: str | None) -> VisualPage:
    """The caller's earlier uploads with processed media, newest first: what "add from library" offers."""
    require_for(V2, caller, caller.require_user())
    items, position = visuals_data.uploads_of(
        caller.require_user(), limit, decode_cursor(cursor) if cursor else None
    )
    return VisualPage(items, encode_cursor(position) if position else None)


def suggest(caller: Caller, track_id: str, limit: int) -> list[Suggestion]:
    """Visuals for this track from its own library and the artist's earlier uploads, best match first."""
    track = owned_track(caller, track_id)
    require_for(V2, caller, track.artist_id)
    library, _ = visuals_data.list_visuals(track_id, ready_only=True, limit=SUGGESTION_POOL, after=None)
    uploads, _ = visuals_data.uploads_of(track.artist_id, SUGGESTION_POOL, None)
    # One entry per piece of media, preferring the copy already on this track.
    by_media = {visual.source_key: visual for visual in uploads if visual.status is MediaStatus.READY}
    by_media |= {visual.source_key: visual for visual in library}
    return suggestions.rank(track.tags, list(by_media.values()), utcnow(), limit)


def set_active(caller: Caller, track_id: str, visual_id: str, active: bool) -> Visual:
    require_for(V1, caller, owned_track(caller, track_id).artist_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    if active:
        check_can_activate(visual)
        visuals_data.activate(track_id, visual_id)
    else:
        visuals_data.deactivate(track_id, visual_id)
    return _reload(visual_id)


def archive(caller: Caller, track_id: str, visual_id: str) -> Visual:
    require_for(V1, caller, owned_track(caller, track_id).artist_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    check_can_archive(visual)
    visuals_data.archive(visual)
    # A visual archived before it was processed has no media worth keeping: its upload, if any, is purged.
    _tag_objects(visual, {"status": "failed" if visual.status is MediaStatus.PROCESSING else "archived"})
    return _reload(visual_id)


def unarchive(caller: Caller, track_id: str, visual_id: str) -> Visual:
    require_for(V1, caller, owned_track(caller, track_id).artist_id)
    visual = visual_of_track(visuals_data.get_visual(visual_id), track_id)
    # Its media may have been added to the track again (reuseVisualId) while this copy was archived.
    _check_media_not_live_on(track_id, visual.source_key, except_id=visual.id)
    visuals_data.unarchive(visual)
    _tag_objects(visual, None)
    return _reload(visual_id)


def _tag_objects(visual: Visual, object_tags: dict[str, str] | None) -> None:
    """Lifecycle rules move archived media to cold storage; no tags puts it back under normal rules.
    Media shared with another visual still in use stays where it is."""
    if object_tags and any(
        user.visual_id != visual.id and user.status is not MediaStatus.ARCHIVED
        for user in visuals_data.sharing_media(visual.source_key)
    ):
        return
    for key in filter(None, (visual.source_key, visual.poster_key)):
        with suppress(NotFound):  # never uploaded: nothing to move
            if object_tags:
                storage.tag(key, object_tags)
            else:
                storage.untag(key)


def _reload(visual_id: str) -> Visual:
    visual = visuals_data.get_visual(visual_id)
    if visual is None:
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    return visual
