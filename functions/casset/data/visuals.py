"""Visual assets. The single-active invariant and status transitions are held by DynamoDB conditions and
transactions, never by a read-then-write in application code."""

import random
import time
from dataclasses import dataclass
from datetime import datetime
from itertools import batched

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from casset import positions, tags
from casset.clock import utcnow
from casset.data._dynamo import (
    cancellation_codes,
    fetch,
    ready,
    save_new,
    set_or_remove,
    transaction,
    translated_errors,
    update_if,
)
from casset.data.pages import Position
from casset.data.tables import DeclaredAttribute, TrackItem, VideoAttribute, VisualItem
from casset.entities import DeclaredMedia, MediaStatus, Metrics, VideoInfo, Visual, VisualKind
from casset.errors import Conflict, NotFound, Unavailable
from casset.rules import deadline_day

UPLOAD_CANCELLED = "UPLOAD_CANCELLED"
_MAX_ACTIVATION_ATTEMPTS = 6
_UPLOADS_PAGE = 25
_FAILED = "ConditionalCheckFailed"


def _to_visual(item: VisualItem) -> Visual:
    media, declared = item.media, item.declared
    return Visual(
        id=item.id,
        track_id=item.track_id,
        kind=VisualKind(item.kind),
        status=MediaStatus(item.status),
        failure_reason=item.failure_reason,
        failure_message=item.failure_message,
        uploader_user_id=item.uploader_user_id,
        submission_id=item.submission_id,
        source_model=item.source_model,
        source_prompt_hash=item.source_prompt_hash,
        source_prompt_text=item.source_prompt_text,
        source_key=item.source_key,
        content_type=item.content_type,
        poster_key=item.poster_key,
        media=VideoInfo(
            duration_sec=media.duration_sec,
            width_px=int(media.width_px),
            height_px=int(media.height_px),
            fps=media.fps,
            codec=media.codec,
            rotation_deg=int(media.rotation_deg),
            mean_luminance=media.mean_luminance,
            size_bytes=int(media.size_bytes),
        )
        if media
        else None,
        declared=DeclaredMedia(**declared.as_dict()) if declared else DeclaredMedia(),
        is_active=item.is_active,
        metrics=Metrics(
            impressions=int(item.impressions),
            pairings=int(item.pairings),
            exports=int(item.exports),
            shares=int(item.shares),
        ),
        archived_from=MediaStatus(item.archived_from) if item.archived_from else None,
        tags=tags.ordered(item.tags or ()),
        bpm_min=None if item.bpm_min is None else int(item.bpm_min),
        bpm_max=None if item.bpm_max is None else int(item.bpm_max),
        upload_deadline=item.upload_deadline,
        position=item.position,
        reused_from=item.reused_from,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def create_visual(visual: Visual) -> Visual:
    """Write a new visual as given: PROCESSING from an upload, or READY when it reuses probed media."""
    if visual.position is None:
        raise ValueError("a new visual needs its place in the track's order")
    ready()
    item = VisualItem(
        id=visual.id,
        track_id=visual.track_id,
        kind=visual.kind.value,
        status=visual.status.value,
        uploader_user_id=visual.uploader_user_id,
        submission_id=visual.submission_id,
        source_key=visual.source_key,
        content_type=visual.content_type,
        poster_key=visual.poster_key,
        media=VideoAttribute(**visual.media.model_dump()) if visual.media else None,
        declared=DeclaredAttribute(**visual.declared.model_dump(exclude_none=True)),
        is_active=False,
        tags=set(visual.tags) or None,
        bpm_min=visual.bpm_min,
        bpm_max=visual.bpm_max,
        position=visual.position,
        reused_from=visual.reused_from,
        list_key=positions.list_key(visual.position, visual.id),
        ready_track_id=visual.track_id if visual.status is MediaStatus.READY else None,
        upload_deadline=visual.upload_deadline,
        upload_deadline_day=deadline_day(visual.upload_deadline) if visual.upload_deadline else None,
        created_at=visual.created_at,
        updated_at=visual.updated_at,
    )
    save_new(
        item, VisualItem.id.does_not_exist(), Conflict("A visual with this id exists.", code="VISUAL_EXISTS")
    )
    return _to_visual(item)


def last_position(track_id: str) -> str | None:
    """The position of the track's last visual in the artist's order (any status)."""
    ready()
    with translated_errors():
        last = next(iter(VisualItem.by_track.query(track_id, scan_index_forward=False, limit=1)), None)
    return last.position if last else None


def place_unpositioned(track_id: str) -> None:
    """Give visuals stored before V2 (no position; their list key is their id, which sorts before every
    position) positions ahead of the first positioned visual, keeping their order. Writers racing here
    compute the same positions, and each write is conditioned on the position still being absent."""
    ready()
    with translated_errors():
        items = iter(VisualItem.by_track.query(track_id, page_size=50))
        first = next(items, None)
        if first is None or first.position is not None:
            return
        unpositioned = [first]
        upper = None
        for item in items:
            if item.position is not None:
                upper = item.position
                break
            unpositioned.append(item)
        previous = None
        for item in unpositioned:
            previous = positions.between(previous, upper)
            update_if(
                item,
                [
                    VisualItem.position.set(previous),
                    VisualItem.list_key.set(positions.list_key(previous, item.id)),
                ],
                VisualItem.position.does_not_exist(),
            )


def position_after(track_id: str, position: str | None, moving_id: str) -> str | None:
    """The first position in the track's order beyond `position` (None: from the start), skipping the
    visual being moved and any tied at `position` itself."""
    ready()
    # "p$" sorts after every "p#<id>" (ties at p) and before every longer position "p<digit>…".
    condition = VisualItem.list_key > f"{position}$" if position is not None else None
    with translated_errors():
        for item in VisualItem.by_track.query(track_id, range_key_condition=condition, page_size=3):
            if item.id != moving_id:
                return item.position
    return None


def move(visual: Visual, position: str) -> Visual:
    """Give the visual a new place in its track's order; no other visual is rewritten."""
    return _update_on_track(
        visual,
        [
            VisualItem.position.set(position),
            VisualItem.list_key.set(positions.list_key(position, visual.id)),
        ],
    )


def describe(visual: Visual, tag_slugs: list[str], bpm_min: int | None, bpm_max: int | None) -> Visual:
    """Replace the visual's tags and BPM range (an empty list or None clears them)."""
    changes = {"tags": set(tag_slugs) or None, "bpm_min": bpm_min, "bpm_max": bpm_max}
    return _update_on_track(visual, set_or_remove(VisualItem, changes))


def _update_on_track(visual: Visual, actions: list[Action]) -> Visual:
    item = VisualItem(id=visual.id)
    actions = [*actions, VisualItem.updated_at.set(utcnow())]
    if not update_if(item, actions, VisualItem.track_id == visual.track_id):
        raise NotFound("No such visual.", code="VISUAL_NOT_FOUND")
    return _to_visual(item)


def uploads_of(user_id: str, limit: int, after: Position | None) -> tuple[list[Visual], Position | None]:
    """The user's own uploads that hold probed media (READY, or archived after READY), newest first.
    Visuals that reuse another upload are left out: each piece of media appears once.

    The byUploader index holds keys only, so each page of keys is fetched with one BatchGetItem."""
    ready()
    start = (
        {"id": {"S": after.item_id}, "uploaderUserId": {"S": user_id}, "createdAt": {"S": after.sort_key}}
        if after
        else None
    )
    found: list[Visual] = []
    with translated_errors():
        keys = VisualItem.by_uploader.query(
            user_id, scan_index_forward=False, last_evaluated_key=start, page_size=_UPLOADS_PAGE
        )
        for chunk in batched((key.id for key in keys), _UPLOADS_PAGE):
            items = {item.id: item for item in VisualItem.batch_get(chunk)}
            found += [
                _to_visual(items[visual_id])
                for visual_id in chunk
                if visual_id in items and items[visual_id].reused_from is None and items[visual_id].media
            ]
            # One extra item tells whether another page exists.
            if len(found) > limit:
                break
    page = found[:limit]
    more = len(found) > limit and page
    return page, Position(VisualItem.created_at.serialize(page[-1].created_at), page[-1].id) if more else None


@dataclass(frozen=True)
class MediaUser:
    visual_id: str
    track_id: str
    status: MediaStatus


def sharing_media(source_key: str) -> list[MediaUser]:
    """Every visual whose media is the object at source_key (the original and its reuses)."""
    ready()
    with translated_errors():
        return [
            MediaUser(item.id, item.track_id, MediaStatus(item.status))
            for item in VisualItem.by_source.query(source_key)
        ]


def get_visual(visual_id: str) -> Visual | None:
    item = fetch(VisualItem, visual_id)
    return _to_visual(item) if item else None


def list_visuals(
    track_id: str,
    *,
    ready_only: bool,
    limit: int,
    after: Position | None,
    kind: VisualKind | None = None,
    active: bool | None = None,
    tag_slugs: list[str] | None = None,
    bpm: int | None = None,
) -> tuple[list[Visual], Position | None]:
    """One page in the artist's order plus the position to continue from (None on the last page).

    The cursor is the last item's list key, so a page starts strictly after it: inserts and removals
    elsewhere in the list never make a page repeat or skip an item."""
    ready()
    index = VisualItem.ready_by_track if ready_only else VisualItem.by_track
    hash_name = "readyTrackId" if ready_only else "trackId"
    start = (
        {"id": {"S": after.item_id}, hash_name: {"S": track_id}, "listKey": {"S": after.sort_key}}
        if after
        else None
    )
    conditions: list[Condition] = []
    if kind is not None:
        conditions.append(VisualItem.kind == kind.value)
    if active is not None:
        conditions.append(VisualItem.is_active == active)
    conditions.extend(VisualItem.tags.contains(slug) for slug in tag_slugs or ())
    if bpm is not None:
        # A visual fits a tempo inside its range; an open end is open, no range at all does not fit.
        conditions.append(VisualItem.bpm_min.exists() | VisualItem.bpm_max.exists())
        conditions.append(VisualItem.bpm_min.does_not_exist() | (VisualItem.bpm_min <= bpm))
        conditions.append(VisualItem.bpm_max.does_not_exist() | (VisualItem.bpm_max >= bpm))
    condition = None
    for part in conditions:
        condition = part if condition is None else condition & part
    with translated_errors():
        # One extra item tells whether another page exists without handing out an empty last page.
        found = list(
            index.query(
                track_id,
                filter_condition=condition,
                limit=limit + 1,
                last_evaluated_key=start,
                page_size=max(limit + 1, 25),
            )
        )
    page = found[:limit]
    more = len(found) > limit and page
    return [_to_visual(item) for item in page], Position(page[-1].list_key, page[-1].id) if more else None


def record_probe(visual: Visual, media: VideoInfo, poster_key: str) -> bool:
    """READY with the probe's figures. False when already recorded or the source was replaced."""
    return _transition_from_processing(
        visual,
        [
            VisualItem.status.set(MediaStatus.READY.value),
            VisualItem.media.set(VideoAttribute(**media.model_dump())),
            VisualItem.poster_key.set(poster_key),
            VisualItem.ready_track_id.set(visual.track_id),
        ],
    )


def record_failure(visual: Visual, reason: str, message: str) -> bool:
    return _transition_from_processing(
        visual,
        [
            VisualItem.status.set(MediaStatus.FAILED.value),
            VisualItem.failure_reason.set(reason),
            VisualItem.failure_message.set(message[:500]),
        ],
    )


def _transition_from_processing(visual: Visual, actions: list) -> bool:
    condition = (VisualItem.status == MediaStatus.PROCESSING.value) & (
        VisualItem.source_key == visual.source_key
    )
    actions = [*actions, *_NOT_AWAITING_UPLOAD, VisualItem.updated_at.set(utcnow())]
    return update_if(VisualItem(id=visual.id), actions, condition)


# Out of the sparse byUploadDeadline index: the visual no longer waits for its upload.
_NOT_AWAITING_UPLOAD = (VisualItem.upload_deadline.remove(), VisualItem.upload_deadline_day.remove())


def stop_awaiting_upload(visual: Visual) -> bool:
    """The upload arrived (the probe owns the outcome now): off the expiry sweep's index."""
    return _transition_from_processing(visual, [])


def overdue_uploads(day: str, now: datetime) -> list[str]:
    """Ids of visuals whose upload deadline, falling on `day`, has passed."""
    ready()
    with translated_errors():
        return [
            item.id
            for item in VisualItem.awaiting_upload.query(
                day, range_key_condition=VisualItem.upload_deadline <= now
            )
        ]


def activate(track_id: str, visual_id: str) -> None:
    """Make visual_id the track's only active visual, in one transaction with clearing the previous one.

    The track's activeVisualId is the lock: each attempt is conditioned on the value it read, so of two
    concurrent activations one commits and the other re-reads and tries again on top of it.
    """
    for attempt in range(_MAX_ACTIVATION_ATTEMPTS):
        ready()
        with translated_errors():
            try:
                previous = TrackItem.get(track_id).active_visual_id
            except DoesNotExist as error:
                raise NotFound("No such track.", code="TRACK_NOT_FOUND") from error
        if previous == visual_id:
            return
        try:
            with translated_errors(), transaction() as writer:
                writer.update(
                    TrackItem(id=track_id),
                    actions=[TrackItem.active_visual_id.set(visual_id), TrackItem.updated_at.set(utcnow())],
                    condition=_active_is(previous),
                )
                writer.update(
                    VisualItem(id=visual_id),
                    actions=[VisualItem.is_active.set(True), VisualItem.updated_at.set(utcnow())],
                    condition=(VisualItem.track_id == track_id)
                    & (VisualItem.status == MediaStatus.READY.value),
                )
                if previous:
                    writer.update(
                        VisualItem(id=previous),
                        actions=[VisualItem.is_active.set(False), VisualItem.updated_at.set(utcnow())],
                        condition=VisualItem.id.exists(),
                    )
            return
        except TransactWriteError as error:
            codes = cancellation_codes(error)
            if len(codes) > 1 and codes[1] == _FAILED:
                raise Conflict("Only a READY visual can be made active.", code="VISUAL_NOT_READY") from error
            # The active visual changed under us, or DynamoDB saw a conflicting transaction: read again,
            # after a short jittered pause so racing writers do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
    raise Unavailable("The track's visuals are changing fast; retry shortly.")


def deactivate(track_id: str, visual_id: str) -> None:
    """Clear the track's active visual if it is visual_id; otherwise nothing changes."""
    try:
        with translated_errors(), transaction() as writer:
            writer.update(
                TrackItem(id=track_id),
                actions=[TrackItem.active_visual_id.remove(), TrackItem.updated_at.set(utcnow())],
                condition=TrackItem.active_visual_id == visual_id,
            )
            writer.update(
                VisualItem(id=visual_id),
                actions=[VisualItem.is_active.set(False), VisualItem.updated_at.set(utcnow())],
                condition=VisualItem.id.exists(),
            )
    except TransactWriteError as error:
        if cancellation_codes(error)[:1] != [_FAILED]:
            raise


def archive(visual: Visual) -> None:
    """ARCHIVED, out of the public list, and no longer the active visual, all at once. Archiving a visual
    still PROCESSING cancels its upload: it comes back from the archive FAILED (UPLOAD_CANCELLED)."""
    now = utcnow()
    cancelled = visual.status is MediaStatus.PROCESSING
    restores_to = MediaStatus.FAILED if cancelled else visual.status
    cancelling: list[Action] = (
        [
            VisualItem.failure_reason.set(UPLOAD_CANCELLED),
            VisualItem.failure_message.set("Archived before its upload was processed."),
            *_NOT_AWAITING_UPLOAD,
        ]
        if cancelled
        else []
    )
    try:
        with translated_errors(), transaction() as writer:
            writer.update(
                VisualItem(id=visual.id),
                actions=[
                    VisualItem.status.set(MediaStatus.ARCHIVED.value),
                    VisualItem.archived_from.set(restores_to.value),
                    VisualItem.ready_track_id.remove(),
                    VisualItem.is_active.set(False),
                    VisualItem.updated_at.set(now),
                    *cancelling,
                ],
                # isActive too: an activation since our read must not leave the track pointing here.
                condition=(VisualItem.status == visual.status.value)
                & (VisualItem.is_active == visual.is_active),
            )
            if visual.is_active:
                writer.update(
                    TrackItem(id=visual.track_id),
                    actions=[TrackItem.active_visual_id.remove(), TrackItem.updated_at.set(now)],
                    condition=TrackItem.active_visual_id == visual.id,
                )
    except TransactWriteError as error:
        raise Conflict(
            "The visual changed meanwhile; fetch it and try again.", code="VISUAL_CHANGED"
        ) from error


def unarchive(visual: Visual) -> None:
    restored = visual.archived_from or MediaStatus.READY
    actions: list[Action] = [
        VisualItem.status.set(restored.value),
        VisualItem.archived_from.remove(),
        VisualItem.updated_at.set(utcnow()),
    ]
    if restored is MediaStatus.READY:
        actions.append(VisualItem.ready_track_id.set(visual.track_id))
    if not update_if(VisualItem(id=visual.id), actions, VisualItem.status == MediaStatus.ARCHIVED.value):
        raise Conflict("The visual is not archived.", code="VISUAL_NOT_ARCHIVED")


def _active_is(previous: str | None):
    if previous is None:
        return TrackItem.id.exists() & TrackItem.active_visual_id.does_not_exist()
    return TrackItem.active_visual_id == previous
