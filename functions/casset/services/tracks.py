"""Tracks: created by artists, with the audio uploaded straight to S3 and probed there."""

from dataclasses import dataclass

from casset import keys
from casset.clock import utcnow
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.data import users as users_data
from casset.entities import Track
from casset.errors import BadRequest, NotFound
from casset.ids import new_id
from casset.media_types import MediaCategory, media_type
from casset.rules import HOOK_DEFAULT_SEC, Caller, check_hook, require_artist, require_track_owner
from casset.services import uploads


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
) -> TrackWithUpload:
    artist = require_artist(users_data.get_user(caller.require_user()))
    hook_duration = HOOK_DEFAULT_SEC if hook_duration_sec is None else hook_duration_sec
    check_hook(preview_start_sec, hook_duration, None)
    now = utcnow()
    track_id = new_id()
    cover_key = _adopt_cover(caller, track_id, cover_upload_key) if cover_upload_key else None
    track = tracks_data.create_track(
        Track(
            id=track_id,
            artist_id=artist.id,
            title=title,
            cover_key=cover_key,
            preview_start_sec=preview_start_sec,
            hook_duration_sec=hook_duration,
            created_at=now,
            updated_at=now,
        )
    )
    if audio is None:
        return TrackWithUpload(track, None)
    return _attach_audio(caller, track, audio)


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
) -> Track:
    track = owned_track(caller, track_id)
    changes: dict[str, object] = {}
    if title is not None:
        changes["title"] = title
    if preview_start_sec is not None or hook_duration_sec is not None:
        start = track.preview_start_sec if preview_start_sec is None else preview_start_sec
        duration = track.hook_duration_sec if hook_duration_sec is None else hook_duration_sec
        check_hook(start, duration, track.audio.duration_sec if track.audio else None)
        changes |= {"preview_start_sec": start, "hook_duration_sec": duration}
    if cover_upload_key:
        changes["cover_key"] = _adopt_cover(caller, track.id, cover_upload_key)
    if not changes:
        return track
    return tracks_data.update_track(track.id, **changes)


def _attach_audio(caller: Caller, track: Track, audio: AudioSource) -> TrackWithUpload:
    if (audio.content_type is None) == (audio.upload_key is None):
        raise BadRequest("Give either audioContentType or audioUploadKey.", code="INVALID_AUDIO_SOURCE")
    upload_id = new_id()
    if audio.upload_key:
        kind, upload_id = uploads.adopt(caller, audio.upload_key, MediaCategory.AUDIO)
        audio_key = keys.track_audio(track.id, upload_id, kind)
        # Mark PROCESSING before the copy lands, so the probe finds the key it expects.
        updated = tracks_data.start_audio_processing(track.id, audio_key)
        storage.copy(audio.upload_key, audio_key, kind.content_type)
        return TrackWithUpload(updated, None)
    kind = media_type(audio.content_type or "", expected=MediaCategory.AUDIO)
    audio_key = keys.track_audio(track.id, upload_id, kind)
    updated = tracks_data.start_audio_processing(track.id, audio_key)
    return TrackWithUpload(updated, uploads.target(audio_key, kind))


def _adopt_cover(caller: Caller, track_id: str, upload_key: str) -> str:
    kind, upload_id = uploads.adopt(caller, upload_key, MediaCategory.IMAGE)
    cover_key = keys.track_cover(track_id, upload_id, kind)
    storage.copy(upload_key, cover_key, kind.content_type)
    return cover_key
