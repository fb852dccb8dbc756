"""Tracks: hook selection, audio and cover keys, and the pointer to the active visual."""

from datetime import datetime

from casset import tags
from casset.clock import utcnow
from casset.data._dynamo import fetch, ready, save_new, set_or_remove, translated_errors, update_if
from casset.data.tables import AudioAttribute, RewardAttribute, TrackItem
from casset.entities import AudioInfo, MediaStatus, Track, TrackReward
from casset.errors import Conflict, NotFound
from casset.rules import deadline_day


def _to_track(item: TrackItem) -> Track:
    audio = item.audio
    return Track(
        id=item.id,
        artist_id=item.artist_id,
        title=item.title,
        audio_key=item.audio_key,
        audio_status=MediaStatus(item.audio_status),
        audio_failure_reason=item.audio_failure_reason,
        audio=AudioInfo(
            duration_sec=audio.duration_sec,
            sample_rate=int(audio.sample_rate),
            channels=int(audio.channels),
            codec=audio.codec,
            size_bytes=int(audio.size_bytes),
        )
        if audio
        else None,
        cover_key=item.cover_key,
        preview_start_sec=item.preview_start_sec,
        hook_duration_sec=item.hook_duration_sec,
        active_visual_id=item.active_visual_id,
        reward=TrackReward(
            amount=int(item.reward.amount),
            currency=item.reward.currency,
            description=item.reward.description,
            active=bool(item.reward.active),
        )
        if item.reward
        else None,
        preview_key=item.preview_key,
        preview_source=item.preview_source,
        preview_failure_reason=item.preview_failure_reason,
        preview_failed_source=item.preview_failed_source,
        tags=tags.ordered(item.tags or ()),
        upload_deadline=item.upload_deadline,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def get_track(track_id: str) -> Track | None:
    item = fetch(TrackItem, track_id)
    return _to_track(item) if item else None


def list_tracks_by_artist(artist_id: str, limit: int) -> list[Track]:
    ready()
    with translated_errors():
        items = TrackItem.by_artist.query(artist_id, scan_index_forward=False, limit=limit)
        return [_to_track(item) for item in items]


def create_track(track: Track) -> Track:
    ready()
    item = TrackItem(
        id=track.id,
        artist_id=track.artist_id,
        title=track.title,
        audio_key=track.audio_key,
        audio_status=track.audio_status.value,
        cover_key=track.cover_key,
        preview_start_sec=track.preview_start_sec,
        hook_duration_sec=track.hook_duration_sec,
        tags=set(track.tags) or None,
        upload_deadline=track.upload_deadline,
        upload_deadline_day=deadline_day(track.upload_deadline) if track.upload_deadline else None,
        created_at=track.created_at,
        updated_at=track.updated_at,
    )
    save_new(
        item, TrackItem.id.does_not_exist(), Conflict("A track with this id exists.", code="TRACK_EXISTS")
    )
    return _to_track(item)


def update_track(track_id: str, **changes: object) -> Track:
    """Set attributes (snake_case names of TrackItem) on an existing track; None removes one."""
    return _update(track_id, set_or_remove(TrackItem, changes), TrackItem.id.exists())


def set_reward(track_id: str, reward: TrackReward) -> Track:
    return _update(
        track_id, [TrackItem.reward.set(RewardAttribute(**reward.model_dump()))], TrackItem.id.exists()
    )


def record_preview(
    track_id: str, audio_key: str, start_sec: float, duration_sec: float, preview_key: str, source: str
) -> bool:
    """Point the track at a freshly cut hook clip, only if the audio and hook are still what it was cut
    from (a newer hook selection has its own cut on the way)."""
    condition = (
        (TrackItem.audio_key == audio_key)
        & (TrackItem.preview_start_sec == start_sec)
        & (TrackItem.hook_duration_sec == duration_sec)
    )
    # Derived media, not an edit: updatedAt stays what the artist's last change made it.
    return update_if(
        TrackItem(id=track_id),
        [
            TrackItem.preview_key.set(preview_key),
            TrackItem.preview_source.set(source),
            TrackItem.preview_failure_reason.remove(),
            TrackItem.preview_failed_source.remove(),
        ],
        condition,
    )


def record_preview_failure(
    track_id: str, audio_key: str, start_sec: float, duration_sec: float, source: str, reason: str
) -> bool:
    """The cut failed for good for this audio and hook (same conditions as record_preview): recorded, so
    answers say so and no cut is queued again until the audio or the hook changes."""
    condition = (
        (TrackItem.audio_key == audio_key)
        & (TrackItem.preview_start_sec == start_sec)
        & (TrackItem.hook_duration_sec == duration_sec)
    )
    return update_if(
        TrackItem(id=track_id),
        [TrackItem.preview_failure_reason.set(reason), TrackItem.preview_failed_source.set(source)],
        condition,
    )


def start_audio_processing(track_id: str, audio_key: str, upload_deadline: datetime) -> Track:
    """A new audio upload supersedes the previous one: the probe only accepts results for this key, and
    the expiry sweep gives it up at `upload_deadline` if it never arrives."""
    actions = [
        TrackItem.audio_key.set(audio_key),
        TrackItem.audio_status.set(MediaStatus.PROCESSING.value),
        TrackItem.audio.remove(),
        TrackItem.audio_failure_reason.remove(),
        TrackItem.upload_deadline.set(upload_deadline),
        TrackItem.upload_deadline_day.set(deadline_day(upload_deadline)),
    ]
    return _update(track_id, actions, TrackItem.id.exists())


def record_audio_probe(
    track_id: str, audio_key: str, audio: AudioInfo, hook: tuple[float, float] | None
) -> bool:
    """READY with the measured figures; False when this upload was superseded or already recorded."""
    actions = [
        TrackItem.audio_status.set(MediaStatus.READY.value),
        TrackItem.audio.set(AudioAttribute(**audio.model_dump())),
    ]
    if hook:
        actions += [TrackItem.preview_start_sec.set(hook[0]), TrackItem.hook_duration_sec.set(hook[1])]
    return _update_if_processing(track_id, audio_key, actions)


def record_audio_failure(track_id: str, audio_key: str, reason: str) -> bool:
    actions = [
        TrackItem.audio_status.set(MediaStatus.FAILED.value),
        TrackItem.audio_failure_reason.set(reason),
    ]
    return _update_if_processing(track_id, audio_key, actions)


def stop_awaiting_upload(track_id: str, audio_key: str) -> bool:
    """The upload arrived (the probe owns the outcome now): off the expiry sweep's index."""
    return _update_if_processing(track_id, audio_key, [])


def overdue_uploads(day: str, now: datetime) -> list[str]:
    """Ids of tracks whose audio upload deadline, falling on `day`, has passed."""
    ready()
    with translated_errors():
        return [
            item.id
            for item in TrackItem.awaiting_upload.query(
                day, range_key_condition=TrackItem.upload_deadline <= now
            )
        ]


def _update_if_processing(track_id: str, audio_key: str, actions: list) -> bool:
    condition = (TrackItem.audio_key == audio_key) & (TrackItem.audio_status == MediaStatus.PROCESSING.value)
    # Whatever ends the wait takes the track off the expiry sweep's index.
    actions = [*actions, TrackItem.upload_deadline.remove(), TrackItem.upload_deadline_day.remove()]
    try:
        _update(track_id, actions, condition)
    except NotFound:
        return False
    return True


def _update(track_id: str, actions: list, condition) -> Track:
    item = TrackItem(id=track_id)
    if not update_if(item, [*actions, TrackItem.updated_at.set(utcnow())], condition):
        raise NotFound("No such track in that state.", code="TRACK_NOT_FOUND")
    return _to_track(item)
