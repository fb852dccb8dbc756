"""Draws the spectrum bars straight into a frame's yuv420p planes.

Each bar's full-height picture (the accent gradient, by row) is prepared once; per frame, a bar is
one slice copy per plane of its visible part, inside the bar box only.
"""

from __future__ import annotations

import numpy as np

from casset.media.render import layout
from casset.media.render.layout import Box
from casset.media.render.overlays import accent_gradient
from casset.media.render.spectrum import BAR_COUNT
from casset.media.render.yuv import Planes, rgb_to_yuv


class BarPainter:
    def __init__(
        self,
        box: Box = layout.BARS,
        *,
        count: int = BAR_COUNT,
        pitch: int = layout.BAR_PITCH,
        bar_width: int = layout.BAR_WIDTH,
    ) -> None:
        if box.left % 2 or box.top % 2 or box.width % 2 or box.height % 2 or bar_width % 2 or pitch % 2:
            raise ValueError("the bars must sit on even coordinates")
        if count * pitch > box.width:
            raise ValueError("the bars do not fit their box")
        self.box = box
        self.count = count
        y, u, v = rgb_to_yuv(accent_gradient(box.height))
        chroma_rows = box.height // 2
        self._luma = np.ascontiguousarray(
            np.broadcast_to(np.rint(y).astype(np.uint8)[:, None], (box.height, bar_width))
        )
        self._u = np.ascontiguousarray(
            np.broadcast_to(
                np.rint(u.reshape(-1, 2).mean(axis=1)).astype(np.uint8)[:, None],
                (chroma_rows, bar_width // 2),
            )
        )
        self._v = np.ascontiguousarray(
            np.broadcast_to(
                np.rint(v.reshape(-1, 2).mean(axis=1)).astype(np.uint8)[:, None],
                (chroma_rows, bar_width // 2),
            )
        )
        # Bars start on even columns and span whole chroma samples, so luma and chroma edges agree.
        offset = ((box.width - count * pitch) // 2 + (pitch - bar_width) // 2) // 2 * 2
        self._lefts = [box.left + offset + index * pitch for index in range(count)]
        self._bar_width = bar_width

    def draw(self, planes: Planes, heights: np.ndarray) -> None:
        """Paint bars of `heights` (0..1, one per bar) over the box in `planes`; 0 paints nothing."""
        box = self.box
        width, half = self._bar_width, self._bar_width // 2
        luma, u_plane, v_plane = planes
        tops = (box.height - np.rint(np.asarray(heights) * box.height).astype(np.intp)).tolist()
        for left, top in zip(self._lefts, tops, strict=True):
            if top >= box.height:
                continue
            luma[box.top + top : box.bottom, left : left + width] = self._luma[top:]
            # A chroma sample is painted when the lower of its two luma rows is: bars grow from the bottom.
            chroma_top = top // 2
            rows = slice(box.top // 2 + chroma_top, box.bottom // 2)
            columns = slice(left // 2, left // 2 + half)
            u_plane[rows, columns] = self._u[chroma_top:]
            v_plane[rows, columns] = self._v[chroma_top:]
