"""Media that would otherwise stay PROCESSING forever ends FAILED with a reason:

- an upload that never arrives: every PROCESSING record carries a deadline (the presigned POST's expiry
  plus a grace) in a sparse index; a scheduled sweep fails the overdue ones whose object is not there
  (UPLOAD_NEVER_ARRIVED) and takes the others off the index (their object arrived: the probe decides);
- a probe that crashed or timed out on every attempt: Lambda's on-failure destination hands the S3
  event to `give_up_probe` (PROBE_FAILED);
- a server-side copy of an earlier upload that failed after the record was written (COPY_FAILED);
- a hook preview cut whose message exhausted its deliveries (PREVIEW_RETRIES_EXHAUSTED, recorded as a
  failed cut: answers say so, and new audio or a new hook cuts again).

Every write is conditioned on the record still being PROCESSING for the same key, so none of these can
overwrite a probe's result. No PyAV here: the functions running this do not carry the ffmpeg layer."""

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from casset import keys
from casset.clock import utcnow
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.data import visuals as visuals_data
from casset.entities import MediaStatus
from casset.errors import NotFound
from casset.rules import deadline_day, preview_source, upload_deadline
from casset.settings import get_settings

UPLOAD_NEVER_ARRIVED = "UPLOAD_NEVER_ARRIVED"
PROBE_FAILED = "PROBE_FAILED"
COPY_FAILED = "COPY_FAILED"
PREVIEW_RETRIES_EXHAUSTED = "PREVIEW_RETRIES_EXHAUSTED"


@dataclass(frozen=True)
class Sweep:
    expired: int  # ended FAILED: the upload never arrived
    arrived: int  # the object is there: left to the probe, off the index


def deadline_for_presigned_upload(now: datetime) -> datetime:
    settings = get_settings()
    return upload_deadline(now, settings.upload_url_ttl_sec, settings.upload_grace_sec)


def deadline_for_copy(now: datetime) -> datetime:
    """A server-side copy lands at once; the grace covers a copy that failed without a trace."""
    return upload_deadline(now, 0, get_settings().upload_grace_sec)


def expire_overdue_uploads(now: datetime | None = None) -> Sweep:
    """One pass over the deadlines passed by `now`: a query per day partition, never a Scan."""
    now = now or utcnow()
    lookback = get_settings().upload_expiry_lookback_days
    expired = arrived = 0
    for days_ago in range(lookback, -1, -1):
        day = deadline_day(now - timedelta(days=days_ago))
        for visual_id in visuals_data.overdue_uploads(day, now):
            visual = visuals_data.get_visual(visual_id)
            if visual is None or visual.status is not MediaStatus.PROCESSING:
                continue
            if _exists(visual.source_key):
                arrived += visuals_data.stop_awaiting_upload(visual)
            else:
                expired += visuals_data.record_failure(
                    visual, UPLOAD_NEVER_ARRIVED, "The upload did not arrive before its link expired."
                )
        for track_id in tracks_data.overdue_uploads(day, now):
            track = tracks_data.get_track(track_id)
            if track is None or track.audio_status is not MediaStatus.PROCESSING or not track.audio_key:
                continue
            if _exists(track.audio_key):
                arrived += tracks_data.stop_awaiting_upload(track.id, track.audio_key)
            else:
                expired += tracks_data.record_audio_failure(track.id, track.audio_key, UPLOAD_NEVER_ARRIVED)
    return Sweep(expired=expired, arrived=arrived)


def give_up_probe(key: str, message: str) -> bool:
    """The probe kept crashing or timing out on this object: its record ends FAILED (False: it was not
    PROCESSING for this key any more, e.g. a later attempt succeeded or the upload was replaced)."""
    target = keys.parse_probe_target(key)
    if isinstance(target, keys.VisualSource):
        visual = visuals_data.get_visual(target.visual_id)
        if visual is None or visual.source_key != key:
            return False
        ended = visuals_data.record_failure(visual, PROBE_FAILED, message)
    elif isinstance(target, keys.TrackAudio):
        ended = tracks_data.record_audio_failure(target.track_id, key, PROBE_FAILED)
    else:
        return False
    if ended:
        with suppress(NotFound):
            storage.tag(key, {"status": "failed"})
    return ended


def visual_copy_failed(visual_id: str) -> None:
    """The copy of an earlier upload into a new visual's place failed: the visual ends FAILED now
    rather than waiting for its deadline."""
    visual = visuals_data.get_visual(visual_id)
    if visual is not None:
        visuals_data.record_failure(visual, COPY_FAILED, "The upload could not be copied into place.")


def audio_copy_failed(track_id: str, audio_key: str) -> None:
    tracks_data.record_audio_failure(track_id, audio_key, COPY_FAILED)


def give_up_preview(track_id: str) -> bool:
    """The cut of the track's current audio and hook kept failing for a transient reason: recorded as a
    failed cut (False: the track has no probed audio, or its clip is current)."""
    track = tracks_data.get_track(track_id)
    if track is None or track.audio_status is not MediaStatus.READY or not track.audio_key:
        return False
    source = preview_source(track.audio_key, track.preview_start_sec, track.hook_duration_sec)
    if track.preview_key and track.preview_source == source:
        return False
    return tracks_data.record_preview_failure(
        track.id,
        track.audio_key,
        track.preview_start_sec,
        track.hook_duration_sec,
        source,
        PREVIEW_RETRIES_EXHAUSTED,
    )


def _exists(key: str) -> bool:
    try:
        storage.describe(key)
    except NotFound:
        return False
    return True
