"""The paywall's pure rules: who chooses a hook window, who reads an export, and the visibility rule every
path naming a visual shares."""

import pytest

from casset.entities import MediaStatus, RenderPlan, Track, Visual
from casset.errors import Forbidden, NotFound
from casset.paywall import HookWindow, hook_window, may_read_export, track_hook, window_is_public
from casset.rules import Caller, visible_visual
from tests.unit import entity_factories
from tests.unit.entity_factories import visual

HOOK = HookWindow(30.0, 15.0)


def track(**changes: object) -> Track:
    hooked = {
        "audio_key": "tracks/t1/audio/a1.wav",
        "preview_start_sec": HOOK.start_sec,
        "hook_duration_sec": HOOK.duration_sec,
    }
    return entity_factories.track(**(hooked | changes))


def plan(start: float = HOOK.start_sec, duration: float = HOOK.duration_sec, **changes: object) -> RenderPlan:
    fields = {
        "renderer_version": "1",
        "track_id": "t1",
        "audio_key": "tracks/t1/audio/a1.wav",
        "hook_start_sec": start,
        "hook_duration_sec": duration,
        "visual_id": "v1",
        "visual_key": "visuals/t1/v1/source.mp4",
        "title": "Song",
        "artist": "Artist",
        "preset": "standard",
    }
    return RenderPlan.model_validate(fields | changes)


def never_asked() -> bool:
    raise AssertionError("entitlement was asked although the answer did not depend on it")


def entitled() -> bool:
    return True


def not_entitled() -> bool:
    return False


# Choosing the window


@pytest.mark.parametrize(
    ("start", "duration"), [(None, None), (30.0, None), (None, 15.0), (30.0, 15.0), (30.0004, 14.9996)]
)
def test_the_hook_itself_is_anyones_without_asking_about_entitlement(
    start: float | None, duration: float | None
) -> None:
    assert hook_window(track(), HOOK, start, duration, never_asked).same_as(HOOK)


@pytest.mark.parametrize(("start", "duration"), [(0.0, None), (None, 30.0), (45.0, 15.0), (30.0, 5.0)])
def test_anyone_else_asking_for_another_window_is_refused_with_the_hook_named(
    start: float | None, duration: float | None
) -> None:
    with pytest.raises(Forbidden) as refused:
        hook_window(track(), HOOK, start, duration, not_entitled)
    assert refused.value.code == "HOOK_WINDOW_LOCKED"
    assert refused.value.details == [{"hookStartSec": 30.0, "hookDurationSec": 15.0}]


def test_the_artist_or_a_collector_gets_what_they_ask_over_the_default() -> None:
    shared = HookWindow(60.0, 15.0)
    assert hook_window(track(), HOOK, 0.0, 30.0, entitled) == HookWindow(0.0, 30.0)
    assert hook_window(track(), shared, None, None, entitled) == shared
    assert hook_window(track(), shared, 90.0, None, entitled) == HookWindow(90.0, 15.0)


def test_a_default_window_someone_else_chose_falls_back_to_the_hook_for_anyone_else() -> None:
    shared = HookWindow(60.0, 15.0)  # a collector's share
    assert hook_window(track(), shared, None, None, not_entitled) == HOOK
    # Naming the hook's own start or length is no choice either: still the hook.
    assert hook_window(track(), shared, 30.0, 15.0, not_entitled) == HOOK
    with pytest.raises(Forbidden):
        hook_window(track(), shared, 60.0, None, not_entitled)


def test_the_tracks_hook_is_its_preview_window() -> None:
    assert track_hook(track(preview_start_sec=12.5, hook_duration_sec=8.0)) == HookWindow(12.5, 8.0)


# Reading an export


def test_the_requester_and_the_artist_always_read_it() -> None:
    private = plan(0.0, 30.0)
    assert may_read_export(Caller(user_id="fan"), private, "fan", track(), visual(), never_asked)
    assert may_read_export(Caller(user_id="artist"), private, "fan", track(), visual(), never_asked)
    # Even once the track or its visual changed.
    archived = visual(MediaStatus.ARCHIVED)
    assert may_read_export(Caller(user_id="artist"), private, "fan", track(), archived, never_asked)
    assert may_read_export(Caller(user_id="fan"), private, "fan", None, None, never_asked)


def test_an_export_of_the_public_hook_over_a_visible_visual_is_anyones_signed_in() -> None:
    assert window_is_public(plan(), track())
    assert may_read_export(Caller(user_id="other"), plan(), "fan", track(), visual(), never_asked)
    assert may_read_export(Caller(user_id="other"), plan(visual_id=None), "fan", track(), None, never_asked)
    assert not may_read_export(Caller(), plan(), "fan", track(), visual(), never_asked)


def test_another_window_is_for_those_who_may_hear_the_full_track() -> None:
    private = plan(0.0, 30.0)
    assert not may_read_export(Caller(user_id="other"), private, "fan", track(), visual(), not_entitled)
    assert may_read_export(Caller(user_id="collector"), private, "fan", track(), visual(), entitled)


def test_an_old_hook_or_old_audio_is_no_longer_public() -> None:
    moved = track(preview_start_sec=40.0)
    new_audio = track(audio_key="tracks/t1/audio/a2.wav")
    for now in (moved, new_audio):
        assert not window_is_public(plan(), now)
        assert not may_read_export(Caller(user_id="other"), plan(), "fan", now, visual(), not_entitled)
        assert may_read_export(Caller(user_id="other"), plan(), "fan", now, visual(), entitled)


@pytest.mark.parametrize(
    "shown",
    [
        visual(MediaStatus.ARCHIVED),
        visual(MediaStatus.PROCESSING),
        visual(track_id="t2"),
        visual(id="v2"),
        None,
    ],
)
def test_a_visual_the_caller_may_not_see_hides_the_export_whatever_their_entitlement(
    shown: Visual | None,
) -> None:
    assert not may_read_export(Caller(user_id="other"), plan(), "fan", track(), shown, entitled)


def test_an_export_of_another_track_is_not_read_through_this_one() -> None:
    assert not may_read_export(
        Caller(user_id="artist"), plan(track_id="t9"), "fan", track(), visual(), entitled
    )


# Which visuals a caller may name


def test_a_visual_is_found_only_on_its_track_and_only_when_the_caller_may_see_it() -> None:
    fan, owner = Caller(user_id="fan"), Caller(user_id="artist")
    assert visible_visual(fan, track(), visual()) == visual()
    for status in (MediaStatus.PROCESSING, MediaStatus.FAILED, MediaStatus.ARCHIVED):
        assert visible_visual(owner, track(), visual(status)).status is status
        with pytest.raises(NotFound) as hidden:
            visible_visual(fan, track(), visual(status))
        assert hidden.value.code == "VISUAL_NOT_FOUND"
    for missing in (None, visual(track_id="t2")):
        with pytest.raises(NotFound):
            visible_visual(owner, track(), missing)
