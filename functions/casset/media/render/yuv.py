"""yuv420p canvas arithmetic: BT.709 colour conversion, writable plane views, the overlay picture.

Frames are composited in the encoder's own format, so no frame ever goes through RGB: the static
layers are converted once, and only the bars are drawn per frame, straight into the Y, U and V planes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from av.video.frame import VideoFrame

# BT.709, limited ("TV") range: what the encoder is told the output is, and what players assume for HD.
_KR, _KB = 0.2126, 0.0722
_KG = 1 - _KR - _KB

Planes = tuple[np.ndarray, np.ndarray, np.ndarray]


def rgb_to_yuv(rgb: np.ndarray) -> Planes:
    """(..., 3) RGB in 0..255 → float Y, U, V arrays in limited-range BT.709 code values."""
    rgb = np.asarray(rgb, dtype=np.float32) / 255.0
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    luma = _KR * red + _KG * green + _KB * blue
    y = 16 + 219 * luma
    u = 128 + 224 * (blue - luma) / (2 * (1 - _KB))
    v = 128 + 224 * (red - luma) / (2 * (1 - _KR))
    return y, u, v


def plane_views(frame: VideoFrame) -> Planes:
    """Writable (height, width) uint8 views of a yuv420p frame's planes (line padding cut off)."""
    views = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, dtype=np.uint8, count=plane.line_size * plane.height)
        views.append(rows.reshape(plane.height, plane.line_size)[:, : plane.width])
    return views[0], views[1], views[2]


def new_canvas(width: int, height: int) -> tuple[VideoFrame, Planes]:
    frame = VideoFrame(width, height, "yuv420p")
    return frame, plane_views(frame)


def fill_from_rgb(planes: Planes, rgb: np.ndarray) -> None:
    """Write an (height, width, 3) RGB picture into yuv420p planes, chroma averaged over 2x2 blocks."""
    y, u, v = rgb_to_yuv(rgb)
    planes[0][:] = np.clip(np.rint(y), 0, 255)
    planes[1][:] = np.clip(np.rint(_subsample(u)), 0, 255)
    planes[2][:] = np.clip(np.rint(_subsample(v)), 0, 255)


def copy_planes(source: Planes, target: Planes, rows: slice = slice(None)) -> None:
    """Copy `rows` (luma rows, even bounds) of every plane from `source` to `target`."""
    chroma_rows = slice(
        None if rows.start is None else rows.start // 2, None if rows.stop is None else rows.stop // 2
    )
    for index, (source_plane, target_plane) in enumerate(zip(source, target, strict=True)):
        plane_rows = rows if index == 0 else chroma_rows
        np.copyto(target_plane[plane_rows], source_plane[plane_rows])


@dataclass(frozen=True)
class OverlayImage:
    """A straight-alpha yuva420p picture and where its top-left corner goes on the canvas."""

    frame: VideoFrame
    left: int
    top: int


def overlay_image(rgba: np.ndarray) -> OverlayImage | None:
    """The painted part of an (height, width, 4) straight-alpha RGBA layer as yuva420p, or None if blank.

    Chroma is the alpha-weighted mean of each 2x2 block: FFmpeg's overlay filter blends chroma with the
    block's mean alpha, so this reproduces blending each pixel on its own.
    """
    alpha = rgba[..., 3]
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(alpha.any(axis=0))
    top, left = int(rows[0]) // 2 * 2, int(columns[0]) // 2 * 2
    bottom = min(alpha.shape[0], (int(rows[-1]) + 2) // 2 * 2)
    right = min(alpha.shape[1], (int(columns[-1]) + 2) // 2 * 2)
    painted = rgba[top:bottom, left:right].astype(np.float32)
    weight = painted[..., 3] / 255.0
    y, u, v = rgb_to_yuv(painted[..., :3])
    block_weight = _subsample(weight)
    safe_weight = np.where(block_weight > 0, block_weight, 1.0)
    u_block = np.where(block_weight > 0, _subsample(u * weight) / safe_weight, 128.0)
    v_block = np.where(block_weight > 0, _subsample(v * weight) / safe_weight, 128.0)
    frame = VideoFrame(right - left, bottom - top, "yuva420p")
    for plane, values in zip(frame.planes, (y, u_block, v_block, painted[..., 3]), strict=True):
        view = np.frombuffer(plane, dtype=np.uint8, count=plane.line_size * plane.height)
        view.reshape(plane.height, plane.line_size)[:, : plane.width] = np.clip(np.rint(values), 0, 255)
    return OverlayImage(frame, left, top)


def _subsample(values: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block (yuv420p chroma siting is irrelevant at overlay scale)."""
    return 0.25 * (values[0::2, 0::2] + values[1::2, 0::2] + values[0::2, 1::2] + values[1::2, 1::2])
