"""The static layers and the yuv420p blending that puts them on every frame."""

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from casset.media.render import layout
from casset.media.render.bars import BarPainter
from casset.media.render.layout import Box
from casset.media.render.overlays import (
    ImageUnreadable,
    OverlayText,
    cover_background,
    load_image,
    static_layer,
)
from casset.media.render.yuv import new_canvas, overlay_image, plane_views, rgb_to_yuv

TEXT = OverlayText("Title", "Artist", "https://casset.app/s/abc", None)


def test_bt709_conversion_of_reference_colours():
    y, u, v = rgb_to_yuv(np.asarray([[0, 0, 0], [255, 255, 255], [255, 0, 0]], dtype=np.float32))
    assert np.allclose(y, [16, 235, 16 + 219 * 0.2126], atol=0.01)
    assert np.allclose(u[:2], 128) and np.allclose(v[:2], 128)
    assert v[2] == pytest.approx(240, abs=0.01)


def _overlaid(rgba: np.ndarray, luma: int = 100) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blend an RGBA layer over a flat grey canvas with FFmpeg's overlay filter, as the renderer does."""
    height, width = rgba.shape[:2]
    canvas, planes = new_canvas(width, height)
    planes[0][:], planes[1][:], planes[2][:] = luma, 128, 128
    image = overlay_image(rgba)
    assert image is not None
    graph = av.filter.Graph()
    main = graph.add_buffer(template=canvas, time_base=Fraction(1, 30))
    layer = graph.add_buffer(template=image.frame, time_base=Fraction(1, 30))
    overlay = graph.add("overlay", f"x={image.left}:y={image.top}:format=yuv420")
    sink = graph.add("buffersink")
    main.link_to(overlay, 0, 0)
    layer.link_to(overlay, 0, 1)
    overlay.link_to(sink)
    graph.configure()
    image.frame.pts = canvas.pts = 0
    layer.push(image.frame)
    layer.push(None)
    main.push(canvas)
    y, u, v = plane_views(sink.pull())
    return y.copy(), u.copy(), v.copy()


def test_the_overlay_image_is_cropped_to_its_painted_area_on_even_coordinates():
    rgba = np.zeros((400, 64, 4), dtype=np.uint8)
    rgba[3:9, 5:11, 3] = 255
    rgba[301:305, 21:33, 3] = 255
    image = overlay_image(rgba)
    assert image is not None
    assert (image.left, image.top) == (4, 2)
    assert (image.frame.width, image.frame.height) == (34 - 4, 306 - 2)
    assert image.frame.format.name == "yuva420p"
    assert overlay_image(np.zeros((10, 10, 4), dtype=np.uint8)) is None


def test_an_opaque_overlay_replaces_and_a_transparent_one_keeps():
    rgba = np.zeros((32, 64, 4), dtype=np.uint8)
    rgba[4:8, 10:20] = (255, 255, 255, 255)
    rgba[20:24, 30:40] = (255, 0, 0, 0)  # painted colour at zero alpha changes nothing
    y, u, v = _overlaid(rgba)
    assert (y[4:8, 10:20] >= 234).all()
    untouched = np.ones(y.shape, dtype=bool)
    untouched[4:8, 10:20] = False
    assert (y[untouched] == 100).all()
    assert (np.abs(u.astype(int) - 128) <= 1).all() and (np.abs(v.astype(int) - 128) <= 1).all()


def test_half_alpha_blends_halfway_and_colour_survives_subsampling():
    rgba = np.zeros((32, 64, 4), dtype=np.uint8)
    rgba[:, :] = (255, 255, 255, 128)
    rgba[10:12, 10:11] = (255, 0, 0, 255)  # one opaque red column in otherwise half-white 2x2 blocks
    y, _, v = _overlaid(rgba, luma=16)
    assert abs(int(y[0, 0]) - (16 + 219 * 128 / 255)) <= 2
    assert v[5, 5] > 150  # the red pixel's block leans red


def test_bars_paint_only_inside_their_box_and_nothing_for_zero():
    _, planes = new_canvas(layout.WIDTH, layout.HEIGHT)
    for plane in planes:
        plane[:] = 0
    painter = BarPainter()
    painter.draw(planes, np.zeros(48))
    assert not planes[0].any()
    heights = np.linspace(0.1, 1.0, 48)
    painter.draw(planes, heights)
    box = layout.BARS
    painted = planes[0] > 0
    rows, columns = np.nonzero(painted)
    assert rows.min() >= box.top and rows.max() < box.bottom
    assert columns.min() >= box.left and columns.max() < box.right
    # The tallest bar reaches the top of the box; bar heights grow left to right.
    assert rows.min() == box.top
    column_heights = painted[box.top : box.bottom].sum(axis=0)
    bar_heights = [height for height in column_heights if height]
    assert bar_heights == sorted(bar_heights)


def test_bars_reject_odd_boxes():
    with pytest.raises(ValueError):
        BarPainter(Box(61, 100, 960, 200))


def test_attribution_is_drawn_exactly_when_a_handle_is_set():
    without = static_layer(TEXT, None, scrim=False)
    with_handle = static_layer(
        OverlayText("Title", "Artist", "https://casset.app/s/abc", "@pixelwitch"), None, scrim=False
    )
    assert without.attribution is None
    box = with_handle.attribution
    assert box == layout.attribution_box(with_share_url=True)
    region = (slice(box.top, box.bottom), slice(box.left, box.right))
    assert without.rgba[region][..., 3].max() < 16  # at most the share URL's soft shadow
    # Drawn, at a slightly lower opacity than the share URL above it.
    attribution_alpha = int(with_handle.rgba[region][..., 3].max())
    share_url_alpha = int(with_handle.rgba[layout.SHARE_URL_TOP : box.top, box.left : box.right, 3].max())
    assert 128 < attribution_alpha < share_url_alpha
    # Everything outside the attribution line is identical.
    outside = np.ones(without.rgba.shape[:2], dtype=bool)
    outside[box.top - 20 : box.bottom + 20, :] = False
    assert np.array_equal(without.rgba[outside], with_handle.rgba[outside])


def test_the_attribution_moves_up_when_there_is_no_share_url():
    layer = static_layer(OverlayText("", "", None, "pixelwitch"), None, scrim=False)
    assert layer.attribution == layout.attribution_box(with_share_url=False)


def test_the_scrim_darkens_only_the_bottom_of_the_frame():
    layer = static_layer(OverlayText("", "", None, None), None, scrim=True).rgba
    alpha_by_row = layer[..., 3].max(axis=1)
    scrim_top = round(layout.HEIGHT * (1 - layout.SCRIM_HEIGHT_FRACTION))
    assert alpha_by_row[scrim_top - 10] == 0 or alpha_by_row[: scrim_top - 10].max() == 0
    assert layer[-1, 500, 3] == round(255 * layout.SCRIM_MAX_OPACITY)
    assert np.all(np.diff(layer[scrim_top:, 5, 3].astype(int)) >= 0)


def test_long_titles_are_ellipsised_within_the_frame():
    layer = static_layer(OverlayText("An extraordinarily long title " * 5, "", None, None), None, scrim=False)
    title_rows = layer.rgba[layout.TITLE_TOP : layout.TITLE_TOP + layout.TITLE_SIZE, :, 3]
    painted_columns = np.flatnonzero(title_rows.max(axis=0) > 128)
    assert painted_columns.max() < layout.WIDTH - layout.MARGIN + 8


def test_cover_background_with_and_without_artwork(tmp_path):
    gradient = cover_background(None)
    assert gradient.shape == (layout.HEIGHT, layout.WIDTH, 3)
    Image.new("RGB", (500, 500), (250, 30, 30)).save(tmp_path / "cover.png")
    covered = cover_background(load_image(str(tmp_path / "cover.png")))
    card = layout.COVER_CARD
    centre = covered[card.top + card.height // 2, card.left + card.width // 2]
    assert tuple(centre) == (250, 30, 30)
    # The bottom gradient darkens the lower edge.
    assert covered[-1].mean() < covered[card.bottom + 10].mean()


def test_unreadable_images_are_reported_not_raised_as_pillow_errors(tmp_path):
    (tmp_path / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    (tmp_path / "text.jpg").write_text("not an image")
    for name in ("fake.png", "text.jpg"):
        with pytest.raises(ImageUnreadable):
            load_image(str(tmp_path / name))


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise for display
    image.save(tmp_path / "rotated.jpg", exif=exif)
    assert load_image(str(tmp_path / "rotated.jpg")).size == (20, 40)


def test_transparent_images_are_laid_on_a_dark_neutral(tmp_path):
    image = Image.new("RGBA", (20, 20), (255, 255, 255, 0))  # white, but fully transparent
    image.putpixel((0, 0), (255, 0, 0, 255))
    image.save(tmp_path / "logo.png")
    loaded = load_image(str(tmp_path / "logo.png"))
    assert loaded.mode == "RGB"
    assert loaded.getpixel((0, 0)) == (255, 0, 0)
    assert max(loaded.getpixel((10, 10))) < 40
