"""Cutting a track's hook preview clip with PyAV (media/preview.py), stored under a key derived from what
it was cut from and recorded on the track only if that is still the track's audio and hook.

Only the preview function, which has the ffmpeg layer, imports this module; the API and the probe ask for a
cut through casset.services.previews."""

import os
import tempfile
from enum import StrEnum

from casset import keys
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.entities import MediaStatus
from casset.media.preview import cut_preview
from casset.media.probe import ProbeRejected
from casset.rules import preview_digest, preview_failed, preview_source
from casset.services.previews import is_current


class Outcome(StrEnum):
    CUT = "CUT"
    UP_TO_DATE = "UP_TO_DATE"
    NOT_READY = "NOT_READY"  # no probed audio (yet)
    SUPERSEDED = "SUPERSEDED"  # the hook or audio changed while cutting; its own job follows
    FAILED = "FAILED"  # the audio cannot be decoded at the hook


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
