"""The static layers and the yuv420p blending that puts them on every frame."""

import numpy as np
import pytest
from PIL import Image

from casset.media.render import layout
from casset.media.render.bars import BarPainter
from casset.media.render.layout import Box
from casset.media.render.overlays import ImageUnreadable, OverlayText, cover_background, load_image, static_layer
from casset.media.render.yuv import new_canvas, patches_from_rgba, rgb_to_yuv

TEXT = OverlayText("Title", "Artist", "https://casset.app/s/abc", None)


def _canvas(luma: int = 100, chroma: int = 128):
    frame, planes = new_canvas(64, 32)
    planes[0][:] = luma
    planes[1][:] = chroma
    planes[2][:] = chroma
    return frame, planes


def test_bt709_conversion_of_reference_colours():
    y, u, v = rgb_to_yuv(np.asarray([[0, 0, 0], [255, 255, 255], [255, 0, 0]], dtype=np.float32))
    assert np.allclose(y, [16, 235, 16 + 219 * 0.2126], atol=0.01)
    assert np.allclose(u[:2], 128) and np.allclose(v[:2], 128)
    assert v[2] == pytest.approx(240, abs=0.01)


def test_an_opaque_patch_replaces_and_a_transparent_one_keeps():
    _, planes = _canvas()
    rgba = np.zeros((32, 64, 4), dtype=np.uint8)
    rgba[4:8, 10:20] = (255, 255, 255, 255)
    rgba[20:24, 30:40] = (255, 255, 255, 0)  # painted colour, zero alpha: not a patch at all
    patches = patches_from_rgba(rgba)
    assert len(patches) == 1
    for patch in patches:
        patch.blend_onto(planes)
    assert (planes[0][4:8, 10:20] == 235).all()
    untouched = np.ones((32, 64), dtype=bool)
    untouched[4:8, 10:20] = False
    assert (planes[0][untouched] == 100).all()
    assert (planes[1] == 128).all() and (planes[2] == 128).all()


def test_half_alpha_blends_halfway():
    _, planes = _canvas(luma=16)
    rgba = np.zeros((32, 64, 4), dtype=np.uint8)
    rgba[:, :] = (255, 255, 255, 128)
    for patch in patches_from_rgba(rgba):
        patch.blend_onto(planes)
    assert np.abs(planes[0].astype(int) - (16 + 219 * 128 / 255)).max() <= 1


def test_patches_are_cut_around_painted_areas_on_even_coordinates():
    rgba = np.zeros((400, 64, 4), dtype=np.uint8)
    rgba[3:9, 5:11, 3] = 255
    rgba[301:305, 21:33, 3] = 255
    patches = patches_from_rgba(rgba)
    assert len(patches) == 2
    for patch in patches:
        assert patch.top % 2 == patch.left % 2 == patch.height % 2 == patch.width % 2 == 0
    assert patches[0].top <= 3 and patches[0].top + patches[0].height >= 9


def test_bars_paint_only_inside_their_box_and_nothing_for_zero():
    frame, planes = new_canvas(layout.WIDTH, layout.HEIGHT)
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
