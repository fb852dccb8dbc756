"""Uploads landing in S3 are measured with PyAV and their records set READY or FAILED.

Re-delivered events are harmless: only a record still PROCESSING for exactly this key is written, and
every write is conditioned on that, so a duplicate running concurrently cannot overwrite the first.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum

from casset import keys
from casset.data import storage
from casset.data import tracks as tracks_data
from casset.data import visuals as visuals_data
from casset.entities import AudioInfo, MediaStatus, VideoInfo
from casset.errors import NotFound
from casset.media.magic import AUDIO_CONTAINERS, HEAD_BYTES, VIDEO_CONTAINERS, sniff
from casset.media.probe import ProbeRejected, probe_audio, probe_video
from casset.rules import HOOK_MIN_SEC, fit_hook
from casset.services import previews
from casset.settings import get_settings


class Outcome(StrEnum):
    READY = "READY"
    FAILED = "FAILED"
    NOT_A_SOURCE = "NOT_A_SOURCE"  # a key the probe does not handle (a poster, a cover)
    UNKNOWN_RECORD = "UNKNOWN_RECORD"  # no visual or track expects this key
    SUPERSEDED = "SUPERSEDED"  # the record now points at a newer upload
    ALREADY_PROCESSED = "ALREADY_PROCESSED"  # a re-delivered event


def probe_uploaded(key: str) -> Outcome:
    target = keys.parse_probe_target(key)
    if isinstance(target, keys.VisualSource):
        return _probe_visual(target, key)
    if isinstance(target, keys.TrackAudio):
        return _probe_track_audio(target, key)
    return Outcome.NOT_A_SOURCE


def _probe_visual(target: keys.VisualSource, key: str) -> Outcome:
    settings = get_settings()
    visual = visuals_data.get_visual(target.visual_id)
    if visual is None or visual.track_id != target.track_id:
        return Outcome.UNKNOWN_RECORD
    if visual.source_key != key:
        return Outcome.SUPERSEDED
    if visual.status is not MediaStatus.PROCESSING:
        return Outcome.ALREADY_PROCESSED
    try:
        with _downloaded(key, VIDEO_CONTAINERS) as path:
            probe = probe_video(
                path,
                max_duration_sec=settings.max_visual_duration_sec,
                max_side_px=settings.max_video_side_px,
                max_size_bytes=settings.max_upload_bytes,
            )
    except ProbeRejected as rejection:
        visuals_data.record_failure(visual, rejection.reason, rejection.message)
        _mark_for_purge(key)
        return Outcome.FAILED
    poster_key = keys.visual_poster(visual.track_id, visual.id)
    storage.put(poster_key, probe.poster_jpeg, "image/jpeg")
    media = VideoInfo(
        duration_sec=round(probe.duration_sec, 3),
        width_px=probe.width_px,
        height_px=probe.height_px,
        fps=round(probe.fps, 3) if probe.fps else None,
        codec=probe.codec,
        rotation_deg=probe.rotation_deg,
        mean_luminance=round(probe.mean_luminance, 4),
        size_bytes=probe.size_bytes,
    )
    recorded = visuals_data.record_probe(visual, media, poster_key)
    return Outcome.READY if recorded else Outcome.ALREADY_PROCESSED


def _probe_track_audio(target: keys.TrackAudio, key: str) -> Outcome:
    settings = get_settings()
    track = tracks_data.get_track(target.track_id)
    if track is None:
        return Outcome.UNKNOWN_RECORD
    if track.audio_key != key:
        return Outcome.SUPERSEDED
    if track.audio_status is not MediaStatus.PROCESSING:
        # A redelivery after the READY write but before the preview was queued must not lose the preview.
        previews.request(track)
        return Outcome.ALREADY_PROCESSED
    try:
        with _downloaded(key, AUDIO_CONTAINERS) as path:
            probe = probe_audio(
                path,
                max_duration_sec=settings.max_audio_duration_sec,
                max_size_bytes=settings.max_upload_bytes,
            )
    except ProbeRejected as rejection:
        tracks_data.record_audio_failure(track.id, key, rejection.reason)
        _mark_for_purge(key)
        return Outcome.FAILED
    if probe.duration_sec < HOOK_MIN_SEC:
        tracks_data.record_audio_failure(track.id, key, "TOO_SHORT")
        return Outcome.FAILED
    audio = AudioInfo(
        duration_sec=round(probe.duration_sec, 3),
        sample_rate=probe.sample_rate,
        channels=probe.channels,
        codec=probe.codec,
        size_bytes=probe.size_bytes,
    )
    # The hook was chosen before the audio's length was known: keep it inside the audio.
    hook = fit_hook(track.preview_start_sec, track.hook_duration_sec, audio.duration_sec)
    recorded = tracks_data.record_audio_probe(track.id, key, audio, hook)
    ready_track = tracks_data.get_track(track.id)
    if ready_track is not None:
        previews.request(ready_track)  # fans without a purchase hear only this hook clip
    return Outcome.READY if recorded else Outcome.ALREADY_PROCESSED


@contextmanager
def _downloaded(key: str, containers: frozenset[str]) -> Iterator[str]:
    """The object in a private temp dir, after the cheap checks: its size and its first bytes."""
    limit = get_settings().max_upload_bytes
    try:
        size = storage.describe(key).size_bytes
    except NotFound as missing:
        raise ProbeRejected("UPLOAD_NOT_FOUND", "The uploaded object is gone.") from missing
    if size == 0:
        raise ProbeRejected("EMPTY_FILE", "The file is empty.")
    if size > limit:
        raise ProbeRejected("TOO_LARGE", f"The file is over {limit // (1024 * 1024)} MB.")
    if sniff(storage.read_head(key, HEAD_BYTES)) not in containers:
        raise ProbeRejected("UNSUPPORTED_FORMAT", "The file is not a supported media container.")
    with tempfile.TemporaryDirectory(prefix="probe-") as workdir:
        path = os.path.join(workdir, "source")
        storage.download(key, path)
        yield path


def _mark_for_purge(key: str) -> None:
    with suppress(NotFound):
        storage.tag(key, {"status": "failed"})
