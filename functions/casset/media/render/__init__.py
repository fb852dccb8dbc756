"""Server-side hook-video render engine: local paths in, a 1080x1920 H.264/AAC MP4 out. No AWS.

    result = render_hook_video(RenderInputs(audio_path, hook_start_sec=30, hook_duration_sec=15), "out.mp4")

Inputs that cannot produce a video raise RenderError with a stable `reason`; a visual that cannot be
decoded never raises: the video falls back to the cover and `result.warnings` says why.
"""

from casset.media.render.engine import ProgressCallback, render_hook_video
from casset.media.render.errors import (
    AUDIO_UNREADABLE,
    AVATAR_UNREADABLE,
    COVER_UNREADABLE,
    ENCODE_FAILED,
    HOOK_OUT_OF_RANGE,
    INVALID_PRESET,
    OUTPUT_TOO_LARGE,
    OUTPUT_UNWRITABLE,
    VISUAL_DECODE_FAILED,
    RenderError,
)
from casset.media.render.model import RenderInputs, RenderResult
from casset.media.render.quality import Preset

__all__ = [
    "AUDIO_UNREADABLE",
    "AVATAR_UNREADABLE",
    "COVER_UNREADABLE",
    "ENCODE_FAILED",
    "HOOK_OUT_OF_RANGE",
    "INVALID_PRESET",
    "OUTPUT_TOO_LARGE",
    "OUTPUT_UNWRITABLE",
    "VISUAL_DECODE_FAILED",
    "Preset",
    "ProgressCallback",
    "RenderError",
    "RenderInputs",
    "RenderResult",
    "render_hook_video",
]
