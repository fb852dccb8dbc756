"""Rendering one export job (the render function's use case). Imports the PyAV engine, so only the
render image loads this module."""

import os
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import cast, get_args

from casset import keys
from casset.data import exports as exports_data
from casset.data import storage
from casset.entities import ExportJob, ExportOutput
from casset.errors import NotFound
from casset.media.render import Preset, RenderError, RenderInputs, render_hook_video

PROGRESS_STEP_PERCENT = 10


class RenderOutcome(StrEnum):
    DONE = "DONE"
    FAILED = "FAILED"
    ALREADY_FINISHED = "ALREADY_FINISHED"  # a redelivered message for a DONE or FAILED export


@dataclass
class ProgressReporter:
    """Writes progress when it crosses each 10 % step (at most ~10 writes per render) with an ETA."""

    export_id: str
    started: float = field(default_factory=time.monotonic)
    written_step: int = 0

    def __call__(self, fraction: float) -> None:
        step = min(int(fraction * 100) // PROGRESS_STEP_PERCENT, 100 // PROGRESS_STEP_PERCENT - 1)
        if step <= self.written_step:
            return
        self.written_step = step
        elapsed = time.monotonic() - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        exports_data.report_progress(self.export_id, step * PROGRESS_STEP_PERCENT, eta)


def render_export(export_id: str) -> RenderOutcome:
    job = exports_data.claim(export_id)
    if job is None:
        return RenderOutcome.ALREADY_FINISHED
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="render-") as workdir:
        try:
            inputs, warnings = _download_inputs(job, workdir)
            result = render_hook_video(
                inputs, os.path.join(workdir, "out.mp4"), on_progress=ProgressReporter(job.id)
            )
        except RenderError as error:
            exports_data.fail(job.id, error.reason, error.message)
            return RenderOutcome.FAILED
        output_key = keys.export_output(job.id)
        storage.upload(result.path, output_key, "video/mp4")
    warnings += result.warnings
    exports_data.complete(
        job,
        output_key,
        ExportOutput(
            size_bytes=result.size_bytes,
            duration_sec=round(result.duration_sec, 3),
            width=result.width,
            height=result.height,
            fps=result.fps,
            video_bitrate=result.video_bitrate,
            audio_bitrate=result.audio_bitrate,
        ),
        warnings,
        time.monotonic() - started,
    )
    return RenderOutcome.DONE


def _download_inputs(job: ExportJob, workdir: str) -> tuple[RenderInputs, list[str]]:
    """The plan's objects on local disk. Optional ones that vanished (a deleted cover, an archived
    visual's media) are left out, so the export falls back instead of failing."""
    plan = job.plan
    warnings: list[str] = []

    def fetch(key: str | None, name: str) -> str | None:
        if key is None:
            return None
        path = os.path.join(workdir, name + os.path.splitext(key)[1])
        try:
            storage.download(key, path)
        except NotFound:
            warnings.append(f"{name.upper()}_MISSING: {key} is gone; rendered without it")
            return None
        return path

    audio = fetch(plan.audio_key, "audio")
    if audio is None:
        raise RenderError("AUDIO_MISSING", "The track's audio file is gone; upload it again.")
    if plan.preset not in get_args(Preset):
        raise RenderError("INVALID_PRESET", f"Unknown preset {plan.preset!r}.")
    inputs = RenderInputs(
        audio_path=audio,
        hook_start_sec=plan.hook_start_sec,
        hook_duration_sec=plan.hook_duration_sec,
        visual_path=fetch(plan.visual_key, "visual"),
        visual_mean_luminance=plan.visual_mean_luminance,
        cover_path=fetch(plan.cover_key, "cover"),
        avatar_path=fetch(plan.avatar_key, "avatar"),
        title=plan.title,
        artist=plan.artist,
        share_url=plan.share_url,
        attribution_handle=plan.attribution_handle,
        preset=cast(Preset, plan.preset),
    )
    return inputs, warnings
