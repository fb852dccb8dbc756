"""Tracks: created by artists, with the audio uploaded straight to S3 and probed there."""

from dataclasses import dataclass
from datetime import datetime

from casset import keys, tags
from casset.clock import utcnow
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.data import users as users_data
from casset.entities import MediaStatus, Track, TrackReward
from casset.errors import BadRequest, NotFound
from casset.flags import Feature, require_for
from casset.ids import new_id
from casset.media_types import MediaCategory, MediaType, media_type
from casset.rules import (
    HOOK_DEFAULT_SEC,
    MAX_PRICE_MINOR,
    Caller,
    check_hook,
    normalise_currency,
    require_artist,
    require_track_owner,
)
from casset.services import previews, stalled_media, uploads


@dataclass(frozen=True)
class AudioSource:
    """Exactly one: a content type to get a fresh upload target for, or an earlier upload to adopt."""

    content_type: str | None = None
    upload_key: str | None = None


@dataclass(frozen=True)
class TrackWithUpload:
    track: Track
    audio_upload: storage.UploadTarget | None


def get_track(track_id: str) -> Track:
    track = tracks_data.get_track(track_id)
    if track is None:
        raise NotFound("No such track.", code="TRACK_NOT_FOUND")
    return track


def owned_track(caller: Caller, track_id: str) -> Track:
    track = get_track(track_id)
    require_track_owner(caller, track)
    return track


def list_artist_tracks(artist_id: str, limit: int) -> list[Track]:
    return tracks_data.list_tracks_by_artist(artist_id, limit)


def create_track(
    caller: Caller,
    title: str,
    preview_start_sec: float,
    hook_duration_sec: float | None,
    audio: AudioSource | None,
    cover_upload_key: str | None,
    tag_texts: list[str] | None = None,
) -> TrackWithUpload:
    """Every input is checked before the one write, so a refused request leaves nothing behind."""
    artist = require_artist(users_data.get_user(caller.require_user()))
    hook_duration = HOOK_DEFAULT_SEC if hook_duration_sec is None else hook_duration_sec
    check_hook(preview_start_sec, hook_duration, None)
    if tag_texts:
        require_for(Feature.VISUAL_PAIRING_V2, caller, artist.id)
    track_tags = tags.normalise_tags(tag_texts or [], tags.TRACK_CATEGORIES)
    track_id = new_id()
    planned_audio = _plan_audio(caller, track_id, audio) if audio else None
    planned_cover = _plan_cover(caller, track_id, cover_upload_key) if cover_upload_key else None
    if planned_cover:
        planned_cover.copy()  # before the record points at it
    now = utcnow()
    track = tracks_data.create_track(
        Track(
            id=track_id,
            artist_id=artist.id,
            title=title,
            audio_key=planned_audio.key if planned_audio else None,
            audio_status=MediaStatus.PROCESSING if planned_audio else MediaStatus.PENDING_UPLOAD,
            cover_key=planned_cover.key if planned_cover else None,
            preview_start_sec=preview_start_sec,
            hook_duration_sec=hook_duration,
            tags=track_tags,
            upload_deadline=planned_audio.deadline(now) if planned_audio else None,
            created_at=now,
            updated_at=now,
        )
    )
    return TrackWithUpload(track, planned_audio.deliver_audio(track.id) if planned_audio else None)


def replace_audio(caller: Caller, track_id: str, audio: AudioSource) -> TrackWithUpload:
    return _attach_audio(caller, owned_track(caller, track_id), audio)


def update_track(
    caller: Caller,
    track_id: str,
    *,
    title: str | None = None,
    preview_start_sec: float | None = None,
    hook_duration_sec: float | None = None,
    cover_upload_key: str | None = None,
    tag_texts: list[str] | None = None,
) -> Track:
    track = owned_track(caller, track_id)
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if tag_texts is not None:
        require_for(Feature.VISUAL_PAIRING_V2, caller, track.artist_id)
        changes["tags"] = set(tags.normalise_tags(tag_texts, tags.TRACK_CATEGORIES)) or None
    if preview_start_sec is not None or hook_duration_sec is not None:
        start = track.preview_start_sec if preview_start_sec is None else preview_start_sec
        duration = track.hook_duration_sec if hook_duration_sec is None else hook_duration_sec
        check_hook(start, duration, track.audio.duration_sec if track.audio else None)
        changes |= {"preview_start_sec": start, "hook_duration_sec": duration}
    if cover_upload_key:
        cover = _plan_cover(caller, track.id, cover_upload_key)
        cover.copy()  # before the record points at it: an unused copy is harmless, a dangling key is not
        changes["cover_key"] = cover.key
    if not changes:
        return track
    updated = tracks_data.update_track(track.id, **changes)
    previews.request(updated)  # a new hook selection is a new preview clip
    return updated


def set_reward(
    caller: Caller, track_id: str, amount: int, currency: str, description: str, active: bool
) -> Track:
    """The track's per-hook bounty; drafted inactive and switched on later."""
    track = owned_track(caller, track_id)
    if not 0 < amount <= MAX_PRICE_MINOR:
        raise BadRequest(f"A reward is between 1 and {MAX_PRICE_MINOR} minor units.", code="INVALID_REWARD")
    reward = TrackReward(
        amount=amount, currency=normalise_currency(currency), description=description, active=active
    )
    return tracks_data.set_reward(track.id, reward)


@dataclass(frozen=True)
class _PlannedMedia:
    """Where a track's audio or cover will live, and how the bytes get there: a server-side copy of an
    earlier upload (after the record exists, so the probe finds it) or a presigned POST for the browser."""

    key: str
    kind: MediaType
    source_upload_key: str | None

    def copy(self) -> None:
        if self.source_upload_key:
            storage.copy(self.source_upload_key, self.key, self.kind.content_type)

    def deadline(self, now: datetime) -> datetime:
        """When the expiry sweep gives this upload up if it has not arrived."""
        if self.source_upload_key:
            return stalled_media.deadline_for_copy(now)
        return stalled_media.deadline_for_presigned_upload(now)

    def deliver_audio(self, track_id: str) -> storage.UploadTarget | None:
        """After the track is PROCESSING for this key: copy the earlier upload into place (a failed copy
        ends the audio FAILED at once) or hand out the presigned POST."""
        if self.source_upload_key:
            try:
                self.copy()
            except Exception:
                stalled_media.audio_copy_failed(track_id, self.key)
                raise
            return None
        return uploads.target(self.key, self.kind)


def _plan_audio(caller: Caller, track_id: str, audio: AudioSource) -> _PlannedMedia:
    if (audio.content_type is None) == (audio.upload_key is None):
        raise BadRequest("Give either audioContentType or audioUploadKey.", code="INVALID_AUDIO_SOURCE")
    if audio.upload_key:
        kind, upload_id = uploads.adopt(caller, audio.upload_key, MediaCategory.AUDIO)
    else:
        kind, upload_id = media_type(audio.content_type or "", expected=MediaCategory.AUDIO), new_id()
    return _PlannedMedia(keys.track_audio(track_id, upload_id, kind), kind, audio.upload_key)


def _plan_cover(caller: Caller, track_id: str, upload_key: str) -> _PlannedMedia:
    kind, upload_id = uploads.adopt(caller, upload_key, MediaCategory.IMAGE)
    return _PlannedMedia(keys.track_cover(track_id, upload_id, kind), kind, upload_key)


def _attach_audio(caller: Caller, track: Track, audio: AudioSource) -> TrackWithUpload:
    planned = _plan_audio(caller, track.id, audio)
    # PROCESSING for the new key before its bytes land, so the probe accepts exactly this upload.
    updated = tracks_data.start_audio_processing(track.id, planned.key, planned.deadline(utcnow()))
    return TrackWithUpload(updated, planned.deliver_audio(track.id))
