"""Where a source picture lands on the 9:16 canvas: the server twin of the web client's lib/visuals/fit.ts.

`fit()` returns a drawImage-style plan: the source rectangle (sx, sy, sw, sh) is scaled into the
destination rectangle (dx, dy, dw, dh). All values are whole pixels; destination values are even, so
the rectangle maps onto whole 2x2 chroma blocks of a yuv420p canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FitMode = Literal["cover", "crop-zoom", "fit-blur"]

CANVAS_WIDTH = 1080
CANVAS_HEIGHT = 1920
# Relative aspect difference still treated as 9:16: 720x1280, 1080x1920 and 1088x1920 all qualify,
# and an encoder's rounding (1080x1916) does not send a clip to the blurred-backdrop treatment.
COVER_ASPECT_TOLERANCE = 0.03
# The slight zoom of landscape and square sources: crops their edges so the frame reads as
# intentional rather than as a letterbox cut out of a wider picture.
CROP_ZOOM = 1.08


@dataclass(frozen=True)
class FitPlan:
    sx: int
    sy: int
    sw: int
    sh: int
    dx: int
    dy: int
    dw: int
    dh: int
    mode: FitMode


def fit(src_w: int, src_h: int, dst_w: int = CANVAS_WIDTH, dst_h: int = CANVAS_HEIGHT) -> FitPlan:
    """9:16 (within tolerance) → cover-fill; landscape or square → centre crop with a slight zoom;
    any other portrait → the whole source fitted inside, over a blurred copy (see `backdrop_rect`)."""
    if min(src_w, src_h, dst_w, dst_h) <= 0:
        raise ValueError(f"sizes must be positive, got {src_w}x{src_h} into {dst_w}x{dst_h}")
    dst_aspect = dst_w / dst_h
    if abs((src_w / src_h) / dst_aspect - 1) <= COVER_ASPECT_TOLERANCE:
        return FitPlan(*cover_rect(src_w, src_h, dst_aspect), 0, 0, dst_w, dst_h, "cover")
    if src_w >= src_h:
        return FitPlan(*cover_rect(src_w, src_h, dst_aspect, CROP_ZOOM), 0, 0, dst_w, dst_h, "crop-zoom")
    scale = min(dst_w / src_w, dst_h / src_h)
    dw = _even_at_least_two(src_w * scale, dst_w)
    dh = _even_at_least_two(src_h * scale, dst_h)
    dx = (dst_w - dw) // 4 * 2
    dy = (dst_h - dh) // 4 * 2
    return FitPlan(0, 0, src_w, src_h, dx, dy, dw, dh, "fit-blur")


def backdrop_rect(
    src_w: int, src_h: int, dst_w: int = CANVAS_WIDTH, dst_h: int = CANVAS_HEIGHT
) -> tuple[int, int, int, int]:
    """The source rectangle of the blurred copy behind a "fit-blur" plan: a plain cover crop."""
    return cover_rect(src_w, src_h, dst_w / dst_h)


def cover_rect(src_w: int, src_h: int, dst_aspect: float, zoom: float = 1.0) -> tuple[int, int, int, int]:
    """The centred source rectangle of aspect `dst_aspect` that fills the destination, `zoom`x tighter."""
    if src_w / src_h > dst_aspect:
        sh = src_h / zoom
        sw = sh * dst_aspect
    else:
        sw = src_w / zoom
        sh = sw / dst_aspect
    width = min(src_w, max(1, round(sw)))
    height = min(src_h, max(1, round(sh)))
    return (src_w - width) // 2, (src_h - height) // 2, width, height


def _even_at_least_two(value: float, limit: int) -> int:
    return min(limit - limit % 2, max(2, round(value / 2) * 2))
