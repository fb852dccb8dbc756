"""Quality presets and the bitrate that keeps every export under the size limit.

Mirrors the web client's pickQualityPreset(): three presets, chosen by the caller. The figures were
measured on a 2-vCPU machine rendering a 30 s 1080x1920 hook (bench/render.py):

- ``high``: x264 "veryfast" (CABAC, deblocking, 3 B-frames, sub-pixel motion search) at up to 6 Mbps
  and AAC 192k. About twice the encode time of "ultrafast"; worth it when the export is kept or
  re-shared, since platforms re-encode what they receive and start from a cleaner picture.
- ``standard``: x264 "ultrafast" at up to 4 Mbps and AAC 160k. "superfast" looks better per bit but
  measured 1.85x the encode time (14.6 s vs 7.9 s for 900 frames), and encoding is most of a render;
  at the 15 MB ceiling a 30 s hook still gets ~3.6 Mbps, enough for a mostly static overlay layout.
- ``low``: x264 "ultrafast" at up to 2 Mbps and AAC 128k: smallest file, for slow uplinks.

Standard and low upscale the background with swscale's bilinear filter, high with bicubic. (Fast
bilinear measured no cheaper here, about 2 ms a frame either way, and is less precise.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

Preset = Literal["high", "standard", "low"]
PRESETS: tuple[Preset, ...] = get_args(Preset)

# Decimal megabytes: the stricter reading of "15 MB".
MAX_OUTPUT_BYTES = 15_000_000
# Headroom for container overhead, AAC overshoot and the VBV buffer's last second.
SIZE_SAFETY_FACTOR = 0.95
# VBV buffer: about a second of video, so x264 can still spend more bits on a cut than on a static
# stretch, but never more than this share of the size budget, which keeps even the VBV's worst case
# (the cap for the whole hook plus one full buffer) inside the 5 % headroom.
VBV_BUFFER_SEC = 1.0
VBV_BUFFER_MAX_SHARE = 0.02


@dataclass(frozen=True)
class QualityPreset:
    name: Preset
    x264_preset: str
    video_cap_bps: int
    audio_bps: int
    scale_flags: str  # swscale algorithm for the background, as the scale filter spells it


QUALITY_PRESETS: dict[Preset, QualityPreset] = {
    "high": QualityPreset("high", "veryfast", 6_000_000, 192_000, "bicubic"),
    "standard": QualityPreset("standard", "ultrafast", 4_000_000, 160_000, "bilinear"),
    "low": QualityPreset("low", "ultrafast", 2_000_000, 128_000, "bilinear"),
}


@dataclass(frozen=True)
class EncodePlan:
    quality: QualityPreset
    video_bitrate: int
    audio_bitrate: int
    vbv_bufsize: int

    def x264_options(self) -> dict[str, str]:
        """libx264 options for PyAV's add_stream(): the preset, and a VBV so the cap really holds."""
        return {
            "preset": self.quality.x264_preset,
            "maxrate": str(self.video_bitrate),
            "bufsize": str(self.vbv_bufsize),
        }


def video_bitrate(preset: Preset, duration_sec: float, *, max_bytes: int = MAX_OUTPUT_BYTES) -> int:
    """min(preset cap, what fits `max_bytes` over `duration_sec` with the audio, less 5 % headroom)."""
    quality = QUALITY_PRESETS[preset]
    budget = int(max_bytes * 8 * SIZE_SAFETY_FACTOR / duration_sec) - quality.audio_bps
    return max(1, min(quality.video_cap_bps, budget))


def encode_plan(preset: Preset, duration_sec: float, *, bitrate_scale: float = 1.0) -> EncodePlan:
    quality = QUALITY_PRESETS[preset]
    bitrate = max(1, int(video_bitrate(preset, duration_sec) * bitrate_scale))
    return EncodePlan(
        quality=quality,
        video_bitrate=bitrate,
        audio_bitrate=quality.audio_bps,
        vbv_bufsize=min(int(bitrate * VBV_BUFFER_SEC), int(MAX_OUTPUT_BYTES * 8 * VBV_BUFFER_MAX_SHARE)),
    )
