"""Hook preview clips as the API and the probe see them: a track's clip is current when it was cut from the
track's audio and hook, and a cut is queued whenever a track's audio becomes READY or its hook selection
changes. The cut itself needs PyAV and lives in casset.services.preview_cuts, which only the preview
function (the one with the ffmpeg layer) imports."""

from casset.data import queue
from casset.entities import MediaStatus, Track
from casset.rules import preview_failed, preview_source


def is_current(track: Track) -> bool:
    wanted = preview_source(track.audio_key or "", track.preview_start_sec, track.hook_duration_sec)
    return track.preview_key is not None and track.preview_source == wanted


def request(track: Track) -> None:
    """Queue a cut unless the track's clip already matches its audio and hook, or cutting exactly this
    audio and hook already failed for good (a new audio upload or hook is a new cut)."""
    if track.audio_status is MediaStatus.READY and not is_current(track) and not preview_failed(track):
        queue.enqueue_preview(track.id)
