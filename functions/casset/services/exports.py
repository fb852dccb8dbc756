"""Asking for a hook video: resolve what goes into it, find or queue the export, report on it."""

import hashlib
import json
from dataclasses import dataclass
from typing import Literal

from casset.clock import utcnow
from casset.data import exports as exports_data
from casset.data import queue
from casset.data import tracks as tracks_data
from casset.data import users as users_data
from casset.data import visuals as visuals_data
from casset.entities import (
    ExportJob,
    ExportStatus,
    HookShare,
    MediaStatus,
    RenderPlan,
    Track,
    Visual,
    VisualKind,
)
from casset.errors import BadRequest, Conflict, NotFound, Unavailable
from casset.flags import Feature, require_for
from casset.paywall import HookWindow, hook_window, may_read_export, track_hook
from casset.rules import Caller, check_hook, export_send_lost
from casset.services import entitlements, render_budget, shares
from casset.services.tracks import get_track
from casset.settings import get_settings

# Bump when the renderer's output for the same plan changes (layout, codec settings, fonts).
RENDERER_VERSION = "1"
Preset = Literal["high", "standard", "low"]
SHARED_VISUAL_UNAVAILABLE = "SHARED_VISUAL_UNAVAILABLE"
RETRIES_EXHAUSTED = "RENDER_RETRIES_EXHAUSTED"
QUEUE_UNAVAILABLE = "RENDER_QUEUE_UNAVAILABLE"


@dataclass(frozen=True)
class ExportAsk:
    """What a client asked for. With a share, the track and hook default to the share's."""

    track_id: str | None = None
    hook_start_sec: float | None = None  # else the share's, else the track's previewStartSec
    hook_duration_sec: float | None = None  # else the share's, else the track's hookDurationSec
    visual_id: str | None = None  # the body's visualAssetId
    query_visual_id: str | None = None  # ?v= from a share URL
    share_id: str | None = None
    share_url: str | None = None
    preset: Preset = "standard"


def export_id_for(plan: RenderPlan) -> str:
    canonical = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def request_export(caller: Caller, ask: ExportAsk) -> ExportJob:
    """The export for this request: finished already, in flight, or queued now. The window is the
    paywall's (casset.paywall.hook_window: only the artist and collectors choose it); a render started
    now is charged to the requester's budget (_find_or_start). A share whose visual fell back adds a
    warning to this answer only: the job is shared by everyone asking for its plan."""
    requester = caller.require_user()
    stored_share = shares.get_share(ask.share_id) if ask.share_id else None
    track = get_track(track_of(ask.track_id, stored_share))
    share = shares.as_shown(caller, stored_share, track) if stored_share else None
    window = hook_window(
        track,
        HookWindow(*shares.hook_of(share, track)) if share else track_hook(track),
        ask.hook_start_sec,
        ask.hook_duration_sec,
        lambda: entitlements.hears_full_track(caller, track),
    )
    if ask.visual_id:
        require_for(Feature.VISUAL_PAIRING_V1, caller, track.artist_id)
    if ask.query_visual_id:
        require_for(Feature.VISUAL_PAIRING_V2, caller, track.artist_id)
    choice = shares.pick_visual(
        caller, track, asked_visual(ask.visual_id, ask.query_visual_id), share.visual_id if share else None
    )
    plan = plan_export(track, window.start_sec, window.duration_sec, choice.visual, ask.share_url, ask.preset)
    export_id = export_id_for(plan)
    job = _find_or_start(requester, export_id, plan)
    if export_send_lost(job, utcnow(), get_settings().export_resend_after_sec) and (
        exports_data.claim_resend(job)
    ):
        queue.enqueue_render(job.id)
    if choice.fallback is None:
        return job
    warning = f"{SHARED_VISUAL_UNAVAILABLE}: {choice.fallback.message}"
    return job.model_copy(update={"warnings": [*job.warnings, warning]})


def _find_or_start(requester: str, export_id: str, plan: RenderPlan) -> ExportJob:
    """The job of this plan. A render starts only where there is none, or it FAILED: queued and charged to
    the requester in one write (casset.services.render_budget), so whoever loses the race to start it
    pays nothing and gets the winner's job. The winner sends the queue message; if that fails, the job
    ends FAILED and the charge is refunded, so no QUEUED job waits for a message nobody sends (a request
    that dies between the write and the send leaves it to export_send_lost's re-send)."""
    found = exports_data.get_export(export_id)
    if found is not None and found.status is not ExportStatus.FAILED:
        return found
    with render_budget.charge(requester) as charge:
        if found is None:
            job, created = exports_data.create_export(export_id, plan, requester, charge)
            if not created:
                return job
            started = job
        else:
            requeued = exports_data.requeue_failed(found.id, charge)
            if requeued is None:
                return get_export(export_id)
            started = requeued
    try:
        queue.enqueue_render(started.id)
    except Unavailable:
        if exports_data.fail_unsent(started, QUEUE_UNAVAILABLE, "The render could not be queued; ask again."):
            render_budget.refund(charge)
        raise
    return started


def track_of(track_id: str | None, share: HookShare | None) -> str:
    """The track to export: the share's (a trackId given with it must match), else the one given."""
    if share is None:
        if not track_id:
            raise BadRequest("Give trackId or shareId.", code="TRACK_REQUIRED")
        return track_id
    if track_id and track_id != share.track_id:
        raise BadRequest("trackId is not the shared track.", code="SHARE_TRACK_MISMATCH")
    return share.track_id


def asked_visual(body_id: str | None, query_id: str | None) -> str | None:
    """visualAssetId in the body and ?v= ask for the same thing; two different answers is an error."""
    if body_id and query_id and body_id != query_id:
        raise BadRequest(
            "visualAssetId and ?v= name different visuals; give one.", code="CONFLICTING_VISUAL_IDS"
        )
    return body_id or query_id


def plan_export(
    track: Track,
    hook_start_sec: float,
    hook_duration_sec: float,
    visual: Visual | None,
    share_url: str | None,
    preset: Preset,
) -> RenderPlan:
    if track.audio_status is not MediaStatus.READY or track.audio is None or track.audio_key is None:
        raise Conflict("The track's audio is not processed yet.", code="AUDIO_NOT_READY")
    check_hook(hook_start_sec, hook_duration_sec, track.audio.duration_sec)
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


def give_up(export_id: str) -> bool:
    """End a render whose queue message exhausted its deliveries as FAILED (False: it had finished).
    Asking for the same export again queues it afresh."""
    return exports_data.fail(
        export_id,
        RETRIES_EXHAUSTED,
        "The render kept failing for a transient reason and was given up; ask for the export again.",
    )


def read_export(caller: Caller, export_id: str) -> ExportJob:
    """An export as the caller may read it (casset.paywall.may_read_export); 404 for everyone else, as
    for an id that does not exist, so ids cannot be probed."""
    job = exports_data.get_export(export_id)
    track = tracks_data.get_track(job.plan.track_id) if job else None
    visual = visuals_data.get_visual(job.plan.visual_id) if job and job.plan.visual_id else None
    if job is None or not may_read_export(
        caller,
        job.plan,
        job.requested_by,
        track,
        visual,
        lambda: track is not None and entitlements.hears_full_track(caller, track),
    ):
        raise NotFound("No such export.", code="EXPORT_NOT_FOUND")
    return job


def get_export(export_id: str) -> ExportJob:
    job = exports_data.get_export(export_id)
    if job is None:
        raise NotFound("No such export.", code="EXPORT_NOT_FOUND")
    return job


def _attribution(visual: Visual | None) -> str | None:
    """Community and generated visuals always credit their creator on the video."""
    if visual is None or visual.kind is VisualKind.ARTIST:
        return None
    uploader = users_data.get_user(visual.uploader_user_id) if visual.uploader_user_id else None
    return uploader.handle if uploader else (visual.source_model or "casset")
