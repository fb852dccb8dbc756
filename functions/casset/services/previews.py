"""Hook preview clips: cut with PyAV (media/preview.py) whenever a track's audio becomes READY or its hook
selection changes, stored under a key derived from what they were cut from, and recorded on the track
only if that is still the track's audio and hook."""

import os
import tempfile
from enum import StrEnum

from casset import keys
from casset.data import queue, storage
from casset.data import tracks as tracks_data
from casset.entities import MediaStatus, Track
from casset.media.preview import cut_preview
from casset.media.probe import ProbeRejected
from casset.rules import preview_digest, preview_failed, preview_source


class Outcome(StrEnum):
    CUT = "CUT"
    UP_TO_DATE = "UP_TO_DATE"
    NOT_READY = "NOT_READY"  # no probed audio (yet)
    SUPERSEDED = "SUPERSEDED"  # the hook or audio changed while cutting; its own job follows
    FAILED = "FAILED"  # the audio cannot be decoded at the hook


def is_current(track: Track) -> bool:
    wanted = preview_source(track.audio_key or "", track.preview_start_sec, track.hook_duration_sec)
    return track.preview_key is not None and track.preview_source == wanted


def request(track: Track) -> None:
    """Queue a cut unless the track's clip already matches its audio and hook, or cutting exactly this
    audio and hook already failed for good (a new audio upload or hook is a new cut)."""
    if track.audio_status is MediaStatus.READY and not is_current(track) and not preview_failed(track):
        queue.enqueue_preview(track.id)


def refresh(track_id: str) -> Outcome:
    track = tracks_data.get_track(track_id)
    if track is None or track.audio_status is not MediaStatus.READY or not track.audio_key:
        return Outcome.NOT_READY
    if is_current(track):
        return Outcome.UP_TO_DATE
    if preview_failed(track):
        return Outcome.FAILED
    source = preview_source(track.audio_key, track.preview_start_sec, track.hook_duration_sec)
    with tempfile.TemporaryDirectory(prefix="preview-") as workdir:
        path = os.path.join(workdir, "source")
        storage.download(track.audio_key, path)
        try:
            clip = cut_preview(path, track.preview_start_sec, track.hook_duration_sec)
        except ProbeRejected as rejection:
            tracks_data.record_preview_failure(
                track.id,
                track.audio_key,
                track.preview_start_sec,
                track.hook_duration_sec,
                source,
                rejection.reason,
            )
            return Outcome.FAILED
    key = keys.track_preview(track.id, preview_digest(source))
    storage.put(key, clip, "audio/mp4")
    recorded = tracks_data.record_preview(
        track.id, track.audio_key, track.preview_start_sec, track.hook_duration_sec, key, source
    )
    return Outcome.CUT if recorded else Outcome.SUPERSEDED
