"""Asking for a hook video: resolve what goes into it, find or queue the export, report on it."""

import hashlib
import json
from typing import Literal

from casset.data import exports as exports_data
from casset.data import queue
from casset.data import users as users_data
from casset.data import visuals as visuals_data
from casset.entities import ExportJob, ExportStatus, MediaStatus, RenderPlan, Track, Visual, VisualKind
from casset.errors import Conflict, NotFound
from casset.rules import Caller, check_hook, visual_of_track
from casset.services.tracks import get_track

# Bump when the renderer's output for the same plan changes (layout, codec settings, fonts).
RENDERER_VERSION = "1"
Preset = Literal["high", "standard", "low"]


def export_id_for(plan: RenderPlan) -> str:
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def request_export(
    caller: Caller,
    track_id: str,
    hook_start_sec: float,
    hook_duration_sec: float,
    visual_id: str | None,
    share_url: str | None,
    preset: Preset,
) -> ExportJob:
    """The export for this request: finished already, in flight, or queued now."""
    requester = caller.require_user()
    plan = plan_export(get_track(track_id), hook_start_sec, hook_duration_sec, visual_id, share_url, preset)
    job, created = exports_data.create_export(export_id_for(plan), plan, requester)
    if created:
        queue.enqueue_render(job.id)
        return job
    if job.status is ExportStatus.FAILED and exports_data.requeue_failed(job.id):
        queue.enqueue_render(job.id)
        return get_export(job.id)
    return job


def plan_export(
    track: Track,
    hook_start_sec: float,
    hook_duration_sec: float,
    visual_id: str | None,
    share_url: str | None,
    preset: Preset,
) -> RenderPlan:
    if track.audio_status is not MediaStatus.READY or track.audio is None or track.audio_key is None:
        raise Conflict("The track's audio is not processed yet.", code="AUDIO_NOT_READY")
    check_hook(hook_start_sec, hook_duration_sec, track.audio.duration_sec)
    visual = _visual_for(track, visual_id)
    artist = users_data.get_user(track.artist_id)
    return RenderPlan(
        renderer_version=RENDERER_VERSION,
        track_id=track.id,
        audio_key=track.audio_key,
        hook_start_sec=round(hook_start_sec, 3),
        hook_duration_sec=round(hook_duration_sec, 3),
        visual_id=visual.id if visual else None,
        visual_key=visual.source_key if visual else None,
        visual_mean_luminance=visual.media.mean_luminance if visual and visual.media else None,
        cover_key=track.cover_key,
        avatar_key=artist.avatar_key if artist else None,
        title=track.title,
        artist=artist.display_name if artist else "",
        share_url=share_url,
        attribution_handle=_attribution(visual),
        preset=preset,
    )


def get_export(export_id: str) -> ExportJob:
    job = exports_data.get_export(export_id)
    if job is None:
        raise NotFound("No such export.", code="EXPORT_NOT_FOUND")
    return job


def _visual_for(track: Track, visual_id: str | None) -> Visual | None:
    """The requested visual, else the track's active one, else none (the static cover)."""
    if visual_id is None:
        active = visuals_data.get_visual(track.active_visual_id) if track.active_visual_id else None
        return active if active and active.status is MediaStatus.READY else None
    visual = visual_of_track(visuals_data.get_visual(visual_id), track.id)
    if visual.status is not MediaStatus.READY:
        raise Conflict(f"The visual is {visual.status.value}, not READY.", code="VISUAL_NOT_READY")
    return visual


def _attribution(visual: Visual | None) -> str | None:
    """Community and generated visuals always credit their creator on the video."""
    if visual is None or visual.kind is VisualKind.ARTIST:
        return None
    uploader = users_data.get_user(visual.uploader_user_id) if visual.uploader_user_id else None
    return uploader.handle if uploader else (visual.source_model or "casset")
