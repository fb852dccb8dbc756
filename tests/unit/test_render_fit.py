"""fit(): where a source picture lands on the 1080x1920 canvas."""

import pytest

from casset.media.render.fit import CROP_ZOOM, FitPlan, backdrop_rect, fit


def _source_aspect(plan: FitPlan) -> float:
    return plan.sw / plan.sh


def _assert_inside(plan: FitPlan, src_w: int, src_h: int) -> None:
    assert plan.sx >= 0 and plan.sx + plan.sw <= src_w
    assert plan.sy >= 0 and plan.sy + plan.sh <= src_h
    assert plan.sw >= 1 and plan.sh >= 1
    assert plan.dx >= 0 and plan.dx + plan.dw <= 1080
    assert plan.dy >= 0 and plan.dy + plan.dh <= 1920
    assert all(value % 2 == 0 for value in (plan.dx, plan.dy, plan.dw, plan.dh))


@pytest.mark.parametrize(("src_w", "src_h"), [(1080, 1920), (720, 1280), (540, 960), (2160, 3840)])
def test_exact_nine_by_sixteen_fills_the_canvas_without_cropping(src_w, src_h):
    assert fit(src_w, src_h) == FitPlan(0, 0, src_w, src_h, 0, 0, 1080, 1920, "cover")


@pytest.mark.parametrize(("src_w", "src_h"), [(1088, 1920), (1080, 1916), (368, 640)])
def test_nearly_nine_by_sixteen_is_cover_filled_with_a_sliver_cropped(src_w, src_h):
    plan = fit(src_w, src_h)
    assert plan.mode == "cover"
    assert (plan.dx, plan.dy, plan.dw, plan.dh) == (0, 0, 1080, 1920)
    assert _source_aspect(plan) == pytest.approx(9 / 16, rel=0.01)
    # Only the excess is cropped, evenly on both sides.
    assert plan.sw == src_w or plan.sh == src_h
    assert abs((src_w - plan.sw) - 2 * plan.sx) <= 1 and abs((src_h - plan.sh) - 2 * plan.sy) <= 1
    _assert_inside(plan, src_w, src_h)


@pytest.mark.parametrize(("src_w", "src_h"), [(1920, 1080), (1280, 720), (1080, 1080), (4096, 2160)])
def test_landscape_and_square_are_centre_cropped_with_a_slight_zoom(src_w, src_h):
    plan = fit(src_w, src_h)
    assert plan.mode == "crop-zoom"
    assert (plan.dx, plan.dy, plan.dw, plan.dh) == (0, 0, 1080, 1920)
    assert _source_aspect(plan) == pytest.approx(9 / 16, rel=0.01)
    # Zoomed: the crop is CROP_ZOOM times shorter than the full height would allow.
    assert plan.sh == pytest.approx(src_h / CROP_ZOOM, abs=1)
    assert plan.sx + plan.sw / 2 == pytest.approx(src_w / 2, abs=1)
    assert plan.sy + plan.sh / 2 == pytest.approx(src_h / 2, abs=1)
    _assert_inside(plan, src_w, src_h)


def test_three_by_four_portrait_is_fitted_inside_over_a_blurred_backdrop():
    plan = fit(960, 1280)
    assert plan == FitPlan(0, 0, 960, 1280, 0, 240, 1080, 1440, "fit-blur")
    # The backdrop is a plain cover crop of the same source.
    sx, sy, sw, sh = backdrop_rect(960, 1280)
    assert sw / sh == pytest.approx(9 / 16, rel=0.01) and sh == 1280 and sx == (960 - sw) // 2 and sy == 0


def test_a_portrait_taller_than_nine_by_sixteen_is_pillarboxed_over_the_blur():
    plan = fit(1170, 2532)  # a phone screen recording
    assert plan.mode == "fit-blur"
    assert plan.dh == 1920 and plan.dy == 0
    assert plan.dw < 1080 and plan.dx == pytest.approx((1080 - plan.dw) / 2, abs=1)
    _assert_inside(plan, 1170, 2532)


@pytest.mark.parametrize(
    ("src_w", "src_h", "mode"),
    [
        (1, 1, "crop-zoom"),
        (2, 2, "crop-zoom"),
        (9, 16, "cover"),
        (16, 9, "crop-zoom"),
        (3, 4, "fit-blur"),
        (1, 4096, "fit-blur"),
    ],
)
def test_tiny_and_extreme_sources_still_give_a_usable_plan(src_w, src_h, mode):
    plan = fit(src_w, src_h)
    assert plan.mode == mode
    _assert_inside(plan, src_w, src_h)
    assert plan.dw >= 2 and plan.dh >= 2


@pytest.mark.parametrize(
    ("src_w", "src_h"), [(4096, 4096), (4096, 2304), (2304, 4096), (3072, 4096), (4096, 16)]
)
def test_huge_sources_stay_within_bounds(src_w, src_h):
    _assert_inside(fit(src_w, src_h), src_w, src_h)


def test_other_canvases_follow_the_same_rules():
    plan = fit(1920, 1080, 1080, 1080)
    assert plan.mode == "crop-zoom" and plan.sw == plan.sh


@pytest.mark.parametrize(("src_w", "src_h"), [(0, 100), (100, 0), (-5, 10)])
def test_empty_sources_are_refused(src_w, src_h):
    with pytest.raises(ValueError):
        fit(src_w, src_h)
