"""Draws the spectrum bars straight into a frame's yuv420p planes.

The bar colours (the accent gradient, by row) and the column → bar map are computed once; per frame
the only work is one comparison that builds the bar mask and three masked copies, all inside the bar box.
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
        if box.left % 2 or box.top % 2 or box.width % 2 or box.height % 2:
            raise ValueError("the bar box must sit on even coordinates")
        if count * pitch > box.width:
            raise ValueError("the bars do not fit their box")
        self.box = box
        self.count = count
        y, u, v = rgb_to_yuv(accent_gradient(box.height))
        self._luma = np.rint(y).astype(np.uint8)[:, None]
        self._u = np.rint(u.reshape(-1, 2).mean(axis=1)).astype(np.uint8)[:, None]
        self._v = np.rint(v.reshape(-1, 2).mean(axis=1)).astype(np.uint8)[:, None]
        # Bars start on even columns and span whole chroma samples, so luma and chroma edges agree.
        offset = ((box.width - count * pitch) // 2 + (pitch - bar_width) // 2) // 2 * 2
        bar_of_column = np.full(box.width, count, dtype=np.intp)  # `count` = a gap between bars
        for index in range(count):
            start = offset + index * pitch
            bar_of_column[start : start + bar_width] = index
        self._bar_of_column = bar_of_column
        self._rows = np.arange(box.height, dtype=np.int32)[:, None]
        self._tops = np.empty(count + 1, dtype=np.int32)
        self._mask = np.empty((box.height, box.width), dtype=bool)

    def draw(self, planes: Planes, heights: np.ndarray) -> None:
        """Paint bars of `heights` (0..1, one per bar) over the box in `planes`; 0 paints nothing."""
        box = self.box
        self._tops[: self.count] = box.height - np.rint(np.asarray(heights) * box.height).astype(np.int32)
        self._tops[self.count] = box.height
        np.greater_equal(self._rows, self._tops[self._bar_of_column][None, :], out=self._mask)
        luma_region = planes[0][box.top : box.bottom, box.left : box.right]
        np.copyto(luma_region, self._luma, where=self._mask)
        # A chroma sample is painted when the lower of its two luma rows is: bars grow from the bottom.
        chroma_mask = self._mask[1::2, ::2]
        chroma_rows = slice(box.top // 2, box.bottom // 2)
        chroma_columns = slice(box.left // 2, box.right // 2)
        np.copyto(planes[1][chroma_rows, chroma_columns], self._u, where=chroma_mask)
        np.copyto(planes[2][chroma_rows, chroma_columns], self._v, where=chroma_mask)
