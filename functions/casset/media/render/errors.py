"""Why a hook video could not be rendered: stable reason codes for the export job's FAILED state."""

from __future__ import annotations

AUDIO_UNREADABLE = "AUDIO_UNREADABLE"
HOOK_OUT_OF_RANGE = "HOOK_OUT_OF_RANGE"
INVALID_PRESET = "INVALID_PRESET"
OUTPUT_UNWRITABLE = "OUTPUT_UNWRITABLE"
ENCODE_FAILED = "ENCODE_FAILED"
OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE"

# Warning prefixes carried by RenderResult.warnings: the export succeeded without that input.
VISUAL_DECODE_FAILED = "VISUAL_DECODE_FAILED"
COVER_UNREADABLE = "COVER_UNREADABLE"
AVATAR_UNREADABLE = "AVATAR_UNREADABLE"


class RenderError(Exception):
    """The inputs cannot produce a video at all. `reason` is a stable code; `message` is for humans."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
