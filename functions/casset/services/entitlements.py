"""Who may hear what, asked on every audio request: the artist and fans with a GRANTED purchase of the
artist hear the full track; everyone else gets the hook preview clip, never a URL of the full audio.
What follows from it for exports and shares (who chooses the window, who reads an export) is
casset.paywall's pure rules."""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from casset.data import purchases as purchases_data
from casset.data import storage
from casset.data import users as users_data
from casset.entities import MediaStatus, Track
from casset.errors import Conflict, NotFound
from casset.rules import Caller, preview_failed, preview_source
from casset.services.tracks import get_track
from casset.settings import get_settings


class Access(StrEnum):
    FULL = "FULL"
    PREVIEW = "PREVIEW"


class Reason(StrEnum):
    ARTIST = "ARTIST"
    PURCHASE = "PURCHASE"
    NONE = "NONE"


@dataclass(frozen=True)
class Entitlement:
    artist_id: str
    entitled: bool
    reason: Reason
    purchase_id: str | None


@dataclass(frozen=True)
class AudioLink:
    track: Track
    access: Access
    url: str
    expires_at: datetime
    start_sec: float  # where in the track the clip starts (0 for the full track)
    duration_sec: float | None


def entitlement(caller: Caller, artist_id: str) -> Entitlement:
    user_id = caller.require_user()
    if user_id == artist_id:
        return Entitlement(artist_id, True, Reason.ARTIST, None)
    if users_data.get_user(artist_id) is None:
        raise NotFound("No such artist.", code="ARTIST_NOT_FOUND")
    purchase_id = purchases_data.granted_purchase_id(user_id, artist_id)
    return Entitlement(
        artist_id, purchase_id is not None, Reason.PURCHASE if purchase_id else Reason.NONE, purchase_id
    )


def hears_full_track(caller: Caller, track: Track) -> bool:
    """The track's artist, or a fan with a GRANTED purchase of the artist: whoever may hear (and so
    export or share) any window of it. Never an error (an artist whose profile is gone has nothing
    anyone collected), so paths that answer 404 for what the caller may not see reveal nothing through it."""
    if caller.user_id is None:
        return False
    if caller.user_id == track.artist_id:
        return True
    return purchases_data.granted_purchase_id(caller.user_id, track.artist_id) is not None


def audio_for(caller: Caller, track_id: str) -> AudioLink:
    track = get_track(track_id)
    audio_key = _require_audio(track)
    if entitlement(caller, track.artist_id).entitled:
        url, expires = storage.presigned_download_with_expiry(
            audio_key, ttl_sec=get_settings().audio_url_ttl_sec
        )
        duration = track.audio.duration_sec if track.audio else None
        return AudioLink(track, Access.FULL, url, expires, 0.0, duration)
    return _preview_link(track)


def preview_for(track_id: str) -> AudioLink:
    track = get_track(track_id)
    _require_audio(track)
    return _preview_link(track)


def _require_audio(track: Track) -> str:
    """The key of the track's probed audio; 409 with what happened when there is none."""
    if track.audio_status is MediaStatus.FAILED:
        raise Conflict(
            f"The track's audio could not be processed ({track.audio_failure_reason}); the artist must "
            "upload it again.",
            code="AUDIO_FAILED",
            details=[{"reason": track.audio_failure_reason}],
        )
    if track.audio_status is not MediaStatus.READY or not track.audio_key:
        raise Conflict("The track's audio is not ready.", code="AUDIO_NOT_READY")
    return track.audio_key


def _preview_link(track: Track) -> AudioLink:
    current = preview_source(track.audio_key or "", track.preview_start_sec, track.hook_duration_sec)
    if preview_failed(track):
        raise Conflict(
            f"The hook preview could not be cut ({track.preview_failure_reason}); it is cut again when "
            "the artist uploads the audio again or chooses another hook.",
            code="PREVIEW_FAILED",
            details=[{"reason": track.preview_failure_reason}],
        )
    if not track.preview_key or track.preview_source != current:
        raise Conflict("The hook preview is being cut; try again in a few seconds.", code="PREVIEW_NOT_READY")
    url, expires = storage.presigned_download_with_expiry(
        track.preview_key, ttl_sec=get_settings().audio_url_ttl_sec
    )
    return AudioLink(track, Access.PREVIEW, url, expires, track.preview_start_sec, track.hook_duration_sec)
