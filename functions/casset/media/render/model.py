"""The render engine's inputs and result."""

from __future__ import annotations

from dataclasses import dataclass, field

from casset.media.render.quality import Preset


@dataclass(frozen=True)
class RenderInputs:
    audio_path: str
    hook_start_sec: float
    hook_duration_sec: float  # 5..30
    visual_path: str | None = None  # a probed visual (mp4/mov/webm); None → static cover treatment
    visual_mean_luminance: float | None = None  # 0..1 from the probe; >= 0.6 → bottom scrim
    cover_path: str | None = None  # jpeg/png/webp
    avatar_path: str | None = None
    title: str = ""
    artist: str = ""
    share_url: str | None = None  # drawn with the Casset watermark
    attribution_handle: str | None = None  # "visuals by @handle" under the watermark, always drawn
    preset: Preset = "standard"


@dataclass(frozen=True)
class RenderResult:
    path: str
    size_bytes: int
    duration_sec: float
    width: int
    height: int
    fps: int
    video_bitrate: int
    audio_bitrate: int
    frames: int
    warnings: tuple[str, ...]  # e.g. "VISUAL_DECODE_FAILED: ..." when the visual fell back to the cover
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
