"""yuv420p canvas arithmetic: BT.709 colour conversion, writable plane views and alpha patches.

Frames are composited in the encoder's own format, so no frame ever goes through RGB: the static
layers are converted once, then blended per frame in integer arithmetic on the Y, U and V planes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from av.video.frame import VideoFrame

# BT.709, limited ("TV") range: what the encoder is told the output is, and what players assume for HD.
_KR, _KB = 0.2126, 0.0722
_KG = 1 - _KR - _KB
# Fixed-point alpha: 256 means opaque, so blending needs only shifts, and bg * (256 - a) + fg * a + 128
# stays below 65536 for uint16 arithmetic.
ALPHA_ONE = 256
# Transparent rows shorter than this between two painted rows stay inside one patch: fewer, larger
# blends are cheaper than many thin ones.
PATCH_ROW_GAP = 24

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


def copy_planes(source: Planes, target: Planes) -> None:
    for source_plane, target_plane in zip(source, target, strict=True):
        np.copyto(target_plane, source_plane)


@dataclass
class Patch:
    """A premultiplied RGBA rectangle converted to yuv420p, blended as out = (bg * inv + pre) >> 8."""

    top: int  # luma rows and columns; always even
    left: int
    luma_inverse: np.ndarray  # uint16, ALPHA_ONE - alpha
    luma_premultiplied: np.ndarray  # uint16, value * alpha + ALPHA_ONE / 2
    chroma_inverse: np.ndarray
    u_premultiplied: np.ndarray
    v_premultiplied: np.ndarray
    _luma_scratch: np.ndarray = field(init=False, repr=False)
    _chroma_scratch: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._luma_scratch = np.empty(self.luma_inverse.shape, dtype=np.uint16)
        self._chroma_scratch = np.empty(self.chroma_inverse.shape, dtype=np.uint16)

    @property
    def height(self) -> int:
        return int(self.luma_inverse.shape[0])

    @property
    def width(self) -> int:
        return int(self.luma_inverse.shape[1])

    def blend_onto(self, planes: Planes) -> None:
        rows = slice(self.top, self.top + self.height)
        columns = slice(self.left, self.left + self.width)
        _blend(planes[0][rows, columns], self.luma_inverse, self.luma_premultiplied, self._luma_scratch)
        chroma_rows = slice(self.top // 2, (self.top + self.height) // 2)
        chroma_columns = slice(self.left // 2, (self.left + self.width) // 2)
        for plane, premultiplied in ((planes[1], self.u_premultiplied), (planes[2], self.v_premultiplied)):
            _blend(plane[chroma_rows, chroma_columns], self.chroma_inverse, premultiplied, self._chroma_scratch)


def patches_from_rgba(rgba: np.ndarray) -> list[Patch]:
    """Cut an (height, width, 4) straight-alpha RGBA layer into patches around its painted areas."""
    alpha = rgba[..., 3]
    painted_rows = np.flatnonzero(alpha.any(axis=1))
    patches = []
    for first_row, last_row in _runs(painted_rows, PATCH_ROW_GAP):
        top = first_row // 2 * 2
        bottom = min(alpha.shape[0], (last_row + 2) // 2 * 2)
        painted_columns = np.flatnonzero(alpha[top:bottom].any(axis=0))
        left = int(painted_columns[0]) // 2 * 2
        right = min(alpha.shape[1], (int(painted_columns[-1]) + 2) // 2 * 2)
        patches.append(_patch(rgba[top:bottom, left:right], top, left))
    return patches


def _patch(rgba: np.ndarray, top: int, left: int) -> Patch:
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    y, u, v = rgb_to_yuv(rgba[..., :3])
    chroma_alpha = _subsample(alpha)
    return Patch(
        top=top,
        left=left,
        luma_inverse=_inverse(alpha),
        luma_premultiplied=_premultiplied(y * alpha),
        chroma_inverse=_inverse(chroma_alpha),
        u_premultiplied=_premultiplied(_subsample(u * alpha)),
        v_premultiplied=_premultiplied(_subsample(v * alpha)),
    )


def _inverse(alpha: np.ndarray) -> np.ndarray:
    return (ALPHA_ONE - np.rint(alpha * ALPHA_ONE)).astype(np.uint16)


def _premultiplied(value_times_alpha: np.ndarray) -> np.ndarray:
    return (np.rint(value_times_alpha * ALPHA_ONE) + ALPHA_ONE // 2).astype(np.uint16)


def _blend(target: np.ndarray, inverse: np.ndarray, premultiplied: np.ndarray, scratch: np.ndarray) -> None:
    np.multiply(target, inverse, out=scratch)
    scratch += premultiplied
    scratch >>= 8
    np.copyto(target, scratch, casting="unsafe")


def _subsample(values: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block (yuv420p chroma siting is irrelevant at overlay scale)."""
    return 0.25 * (values[0::2, 0::2] + values[1::2, 0::2] + values[0::2, 1::2] + values[1::2, 1::2])


def _runs(indices: np.ndarray, max_gap: int) -> list[tuple[int, int]]:
    if indices.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(indices) > max_gap)
    starts = np.concatenate(([indices[0]], indices[breaks + 1]))
    ends = np.concatenate((indices[breaks], [indices[-1]]))
    return [(int(start), int(end)) for start, end in zip(starts, ends, strict=True)]
