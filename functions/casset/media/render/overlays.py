"""The static layers, painted once with Pillow: typography, avatar, watermark, scrim, cover treatment.

Text uses Pillow's bundled scalable font (`ImageFont.load_default(size=...)`), so the render needs no
font files. Every element is painted on its own transparent image and alpha-composited, which keeps
anti-aliased edges free of dark fringes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from casset.media.magic import HEAD_BYTES, IMAGE_CONTAINERS, sniff
from casset.media.render import layout
from casset.media.render.fit import backdrop_rect
from casset.media.render.layout import Box

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
# The accent gradient shared by the bars and the logo mark: violet → pink → orange.
ACCENT_STOPS = ((124, 58, 237), (236, 72, 153), (249, 115, 22))

# Images larger than this are refused before decoding (decompression bombs).
MAX_IMAGE_PIXELS = 40_000_000
_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP")
_ELLIPSIS = "…"
_SHADOW_BLUR = 6
_SHADOW_OFFSET = 3
_SHADOW_OPACITY = 0.45
_BACKDROP_SCALE = 8  # the blurred cover backdrop is built at 1/8 size: cheaper and smoother
_BACKDROP_DIM = 0.55
_TRANSPARENT_FILL = (24, 24, 28)


class ImageUnreadable(Exception):
    pass


@dataclass(frozen=True)
class OverlayText:
    title: str
    artist: str
    share_url: str | None
    attribution_handle: str | None


@dataclass(frozen=True)
class StaticLayer:
    rgba: np.ndarray  # (HEIGHT, WIDTH, 4) uint8, straight alpha
    attribution: Box | None  # where "visuals by @handle" went, when drawn


def load_image(path: str) -> Image.Image:
    """An RGB picture from a JPEG, PNG or WebP file, upright per its EXIF orientation; transparent
    areas are laid on a dark neutral, so they never show whatever colour the file stored there."""
    try:
        with open(path, "rb") as file:
            kind = sniff(file.read(HEAD_BYTES))
        if kind not in IMAGE_CONTAINERS:
            raise ImageUnreadable(f"expected a JPEG, PNG or WebP image, found {kind or 'unrecognised data'}")
        with Image.open(path, formats=_PILLOW_FORMATS) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                raise ImageUnreadable(f"the image is {image.width}x{image.height}, too large")
            # JPEG can decode at 1/2, 1/4 or 1/8 scale directly; nothing here needs more than 2048 px.
            image.draft("RGB", (2048, 2048))
            upright = ImageOps.exif_transpose(image)
            if "A" not in upright.getbands() and "transparency" not in upright.info:
                return upright.convert("RGB")
            flattened = Image.new("RGBA", upright.size, (*_TRANSPARENT_FILL, 255))
            flattened.alpha_composite(upright.convert("RGBA"))
            return flattened.convert("RGB")
    except ImageUnreadable:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ImageUnreadable(str(error) or type(error).__name__) from error


def static_layer(
    text: OverlayText,
    avatar: Image.Image | None,
    *,
    scrim: bool,
) -> StaticLayer:
    """Everything drawn over the background except the bars, as one RGBA layer."""
    layer = Image.new("RGBA", (layout.WIDTH, layout.HEIGHT), (0, 0, 0, 0))
    if scrim:
        layer.alpha_composite(_scrim())
    text_left = layout.MARGIN
    if avatar is not None:
        layer.alpha_composite(
            _round_avatar(avatar, layout.AVATAR.width), (layout.AVATAR.left, layout.AVATAR.top)
        )
        text_left = layout.TEXT_LEFT_WITH_AVATAR
    text_width = layout.WIDTH - layout.MARGIN - text_left
    if text.title:
        _draw_text(layer, text.title, (text_left, layout.TITLE_TOP), layout.TITLE_SIZE, text_width, bold=True)
    if text.artist:
        _draw_text(
            layer, text.artist, (text_left, layout.ARTIST_TOP), layout.ARTIST_SIZE, text_width, opacity=0.82
        )
    attribution = _draw_watermark(layer, text.share_url, text.attribution_handle)
    return StaticLayer(np.asarray(layer), attribution)


def cover_background(cover: Image.Image | None) -> np.ndarray:
    """The static background without a visual: the artwork as a card over a blurred, dimmed copy of
    itself and a dark bottom gradient; a quiet accent gradient when there is no artwork either."""
    if cover is None:
        canvas = _fallback_gradient()
    else:
        canvas = _blurred_backdrop(cover)
        card = _cover_card(cover)
        shadow = Image.new("L", (card.width + 120, card.height + 120), 0)
        ImageDraw.Draw(shadow).rounded_rectangle(
            (60, 76, 60 + card.width, 76 + card.height), layout.COVER_CARD_RADIUS, fill=150
        )
        shadow = shadow.filter(ImageFilter.GaussianBlur(24))
        canvas.paste(BLACK, (layout.COVER_CARD.left - 60, layout.COVER_CARD.top - 60), shadow)
        canvas.paste(card, (layout.COVER_CARD.left, layout.COVER_CARD.top), card)
    bottom_gradient = _vertical_alpha(start=0.45, end=1.0, max_opacity=0.78)
    canvas.paste(BLACK, (0, 0), bottom_gradient)
    return np.asarray(canvas)


def accent_gradient(height: int) -> np.ndarray:
    """(height, 3) float RGB running from the first accent stop at the bottom to the last at the top."""
    positions = np.linspace(1.0, 0.0, height)[:, None]  # 0 at the bottom row
    stops = np.asarray(ACCENT_STOPS, dtype=np.float32)
    anchors = np.linspace(0.0, 1.0, len(stops))
    return np.stack([np.interp(positions[:, 0], anchors, stops[:, channel]) for channel in range(3)], axis=1)


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _fitted(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: int) -> str:
    text = " ".join(text.split())
    if font.getlength(text) <= max_width:
        return text
    while text and font.getlength(text + _ELLIPSIS) > max_width:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS


def _text_mask(text: str, size: int, *, bold: bool = False, tracking: int = 0) -> Image.Image:
    """An L mask of `text` whose origin (0, 0) is where ImageDraw would anchor it; padded for shadows."""
    font = _font(size)
    stroke = 1 if bold else 0
    pad = _SHADOW_BLUR * 2 + _SHADOW_OFFSET
    width = int(font.getlength(text)) + tracking * len(text) + 2 * pad + 2 * stroke
    height = int(size * 1.4) + 2 * pad
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    if tracking:
        x = float(pad)
        for character in text:
            draw.text((x, pad), character, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
            x += font.getlength(character) + tracking
    else:
        draw.text((pad, pad), text, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
    return mask


def _composite_mask(
    layer: Image.Image,
    mask: Image.Image,
    colour: tuple[int, int, int],
    opacity: float,
    position: tuple[int, int],
) -> None:
    alpha = mask.point(lambda value: round(value * opacity)) if opacity < 1 else mask
    element = Image.new("RGBA", mask.size, (*colour, 0))
    element.putalpha(alpha)
    layer.alpha_composite(element, position)


def _draw_text(
    layer: Image.Image,
    text: str,
    origin: tuple[int, int],
    size: int,
    max_width: int,
    *,
    bold: bool = False,
    opacity: float = 1.0,
    tracking: int = 0,
) -> None:
    fitted = _fitted(text, _font(size), max_width)
    if not fitted:
        return
    mask = _text_mask(fitted, size, bold=bold, tracking=tracking)
    pad = _SHADOW_BLUR * 2 + _SHADOW_OFFSET
    left, top = origin[0] - pad, origin[1] - pad
    shadow = mask.filter(ImageFilter.GaussianBlur(_SHADOW_BLUR))
    _composite_mask(layer, shadow, BLACK, _SHADOW_OPACITY * opacity, (left, top + _SHADOW_OFFSET))
    _composite_mask(layer, mask, WHITE, opacity, (left, top))


def _draw_watermark(layer: Image.Image, share_url: str | None, attribution_handle: str | None) -> Box | None:
    top = layout.WATERMARK_TOP
    layer.alpha_composite(_logo_mark(layout.LOGO_SIZE, layout.WATERMARK_OPACITY), (layout.MARGIN, top))
    wordmark_left = layout.MARGIN + layout.LOGO_SIZE + 14
    wordmark_top = top + (layout.LOGO_SIZE - layout.WORDMARK_SIZE) // 2 - 2
    line_width = layout.WIDTH - 2 * layout.MARGIN
    _draw_text(
        layer,
        "CASSET",
        (wordmark_left, wordmark_top),
        layout.WORDMARK_SIZE,
        line_width,
        bold=True,
        opacity=layout.WATERMARK_OPACITY,
        tracking=4,
    )
    if share_url:
        display_url = share_url.removeprefix("https://").removeprefix("http://").rstrip("/")
        _draw_text(
            layer,
            display_url,
            (layout.MARGIN, layout.SHARE_URL_TOP),
            layout.WATERMARK_LINE_SIZE,
            line_width,
            opacity=layout.WATERMARK_OPACITY,
        )
    handle = (attribution_handle or "").strip().lstrip("@")
    if not handle:
        return None
    box = layout.attribution_box(with_share_url=bool(share_url))
    _draw_text(
        layer,
        f"visuals by @{handle}",
        (box.left, box.top),
        layout.WATERMARK_LINE_SIZE,
        box.width,
        opacity=layout.ATTRIBUTION_OPACITY,
    )
    return box


def _logo_mark(size: int, opacity: float) -> Image.Image:
    """A small cassette: an accent-gradient rounded square with two reels."""
    scale = 4  # drawn large and reduced, for smooth edges
    big = size * scale
    gradient = np.zeros((big, big, 4), dtype=np.uint8)
    gradient[..., :3] = accent_gradient(big)[:, None, :].astype(np.uint8)
    gradient[..., 3] = 255
    mark = Image.fromarray(gradient, "RGBA")
    shape = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(shape)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 4, fill=round(255 * opacity))
    reel = big // 6
    for centre_x in (big * 0.33, big * 0.67):
        draw.ellipse(
            (centre_x - reel, big * 0.45 - reel, centre_x + reel, big * 0.45 + reel), fill=round(90 * opacity)
        )
    mark.putalpha(shape)
    return mark.resize((size, size), Image.Resampling.LANCZOS)


def _round_avatar(avatar: Image.Image, diameter: int) -> Image.Image:
    scale = 4
    big = diameter * scale
    picture = ImageOps.fit(avatar, (big, big), Image.Resampling.LANCZOS)
    ring = max(2, diameter // 40) * scale
    circle = Image.new("L", (big, big), 0)
    ImageDraw.Draw(circle).ellipse((0, 0, big - 1, big - 1), fill=255)
    inner = Image.new("L", (big, big), 0)
    ImageDraw.Draw(inner).ellipse((ring, ring, big - 1 - ring, big - 1 - ring), fill=255)
    result = Image.new("RGBA", (big, big), (*WHITE, 0))
    result.putalpha(circle.point(lambda value: round(value * 0.85)))  # the white ring
    picture_rgba = picture.convert("RGBA")
    picture_rgba.putalpha(inner)
    result.alpha_composite(picture_rgba)
    return result.resize((diameter, diameter), Image.Resampling.LANCZOS)


def _scrim() -> Image.Image:
    start = 1 - layout.SCRIM_HEIGHT_FRACTION
    alpha = _vertical_alpha(start=start, end=1.0, max_opacity=layout.SCRIM_MAX_OPACITY)
    scrim = Image.new("RGBA", (layout.WIDTH, layout.HEIGHT), (*BLACK, 0))
    scrim.putalpha(alpha)
    return scrim


def _vertical_alpha(*, start: float, end: float, max_opacity: float) -> Image.Image:
    """An L mask, 0 above `start` (fraction of the height), easing up to `max_opacity` at `end`."""
    rows = (np.arange(layout.HEIGHT) + 0.5) / layout.HEIGHT
    progress = np.clip((rows - start) / (end - start), 0.0, 1.0)
    eased = progress * progress * (3 - 2 * progress)  # smoothstep: no visible edge where it starts
    column = np.rint(eased * max_opacity * 255).astype(np.uint8)
    return Image.fromarray(np.repeat(column[:, None], layout.WIDTH, axis=1), "L")


def _blurred_backdrop(cover: Image.Image) -> Image.Image:
    sx, sy, sw, sh = backdrop_rect(cover.width, cover.height, layout.WIDTH, layout.HEIGHT)
    small = cover.resize(
        (layout.WIDTH // _BACKDROP_SCALE, layout.HEIGHT // _BACKDROP_SCALE),
        Image.Resampling.BILINEAR,
        box=(sx, sy, sx + sw, sy + sh),
        reducing_gap=2.0,
    )
    blurred = small.filter(ImageFilter.GaussianBlur(6)).point(lambda value: round(value * _BACKDROP_DIM))
    return blurred.resize((layout.WIDTH, layout.HEIGHT), Image.Resampling.BICUBIC)


def _cover_card(cover: Image.Image) -> Image.Image:
    box = layout.COVER_CARD
    card = ImageOps.contain(cover, (box.width, box.height), Image.Resampling.LANCZOS)
    corners = Image.new("L", card.size, 0)
    ImageDraw.Draw(corners).rounded_rectangle(
        (0, 0, card.width - 1, card.height - 1), layout.COVER_CARD_RADIUS, fill=255
    )
    rgba = card.convert("RGBA")
    rgba.putalpha(corners)
    # Centre a non-square artwork inside the card box.
    framed = Image.new("RGBA", (box.width, box.height), (0, 0, 0, 0))
    framed.paste(rgba, ((box.width - card.width) // 2, (box.height - card.height) // 2))
    return framed


def _fallback_gradient() -> Image.Image:
    rows = np.linspace(0.0, 1.0, layout.HEIGHT)[:, None, None]
    columns = np.linspace(0.0, 1.0, layout.WIDTH)[None, :, None]
    top = np.asarray((46, 16, 101), dtype=np.float32)  # deep violet
    bottom = np.asarray((10, 10, 18), dtype=np.float32)  # near black
    diagonal = np.clip(0.75 * rows + 0.25 * columns, 0.0, 1.0)
    rgb = top * (1 - diagonal) + bottom * diagonal
    # A soft pink glow in the upper third keeps the empty background from looking flat.
    distance = np.sqrt(((columns - 0.7) * 1.2) ** 2 + ((rows - 0.22) * 0.7) ** 2)
    glow = np.clip(1 - distance / 0.45, 0.0, 1.0) ** 2
    rgb = rgb + glow * (np.asarray(ACCENT_STOPS[1], dtype=np.float32) - rgb) * 0.35
    return Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")
