"""Geometry of the 1080x1920 hook video: where each layer sits. All edges are even (yuv420p chroma)."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 1080
HEIGHT = 1920
FPS = 30
MARGIN = 72


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height


# Static cover treatment: the artwork as a card in the upper half.
COVER_CARD = Box(100, 220, 880, 880)
COVER_CARD_RADIUS = 36

# Track block: round avatar, then title over artist.
AVATAR = Box(MARGIN, 1150, 120, 120)
TEXT_LEFT_WITH_AVATAR = AVATAR.right + 32
TITLE_TOP = 1152
TITLE_SIZE = 62
ARTIST_TOP = 1226
ARTIST_SIZE = 42

# Spectrum: 48 bars growing up from the bottom edge of this box.
BARS = Box(60, 1330, 960, 260)
BAR_PITCH = 20
BAR_WIDTH = 14

# Watermark block: the Casset mark, the share URL, then the attribution line.
WATERMARK_TOP = 1650
LOGO_SIZE = 40
WORDMARK_SIZE = 36
SHARE_URL_TOP = 1708
WATERMARK_LINE_SIZE = 30
WATERMARK_LINE_HEIGHT = 42
# The attribution line sits under the share URL, or takes its place when there is none.
ATTRIBUTION_TOP = SHARE_URL_TOP + WATERMARK_LINE_HEIGHT
WATERMARK_OPACITY = 0.9
# "Slightly reduced": legible, but visibly secondary to the Casset mark.
ATTRIBUTION_OPACITY = 0.7

# Contrast guard: bright visuals get a bottom scrim over this share of the height.
SCRIM_HEIGHT_FRACTION = 0.38
SCRIM_MAX_OPACITY = 0.72
BRIGHT_VISUAL_LUMINANCE = 0.6


def attribution_box(*, with_share_url: bool) -> Box:
    """Where the "visuals by @handle" line is drawn (its glyphs stay inside this box)."""
    top = ATTRIBUTION_TOP if with_share_url else SHARE_URL_TOP
    return Box(MARGIN, top, WIDTH - 2 * MARGIN, WATERMARK_LINE_HEIGHT)
