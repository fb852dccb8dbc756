from datetime import UTC, datetime, timedelta

import pytest

from casset.entities import MediaStatus, Track, VisualKind
from casset.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from casset.rules import (
    Caller,
    can_see,
    check_can_activate,
    check_can_archive,
    check_hook,
    fit_hook,
    normalise_handle,
    require_artist,
    require_track_owner,
    visual_of_track,
)
from tests.unit.entity_factories import track, visual


@pytest.mark.parametrize(
    ("raw", "expected"), [("NightDrive", "nightdrive"), ("@night.drive", "night.drive"), (" dj_x ", "dj_x")]
)
def test_handles_are_normalised(raw: str, expected: str) -> None:
    assert normalise_handle(raw) == expected


@pytest.mark.parametrize("raw", ["ab", "has space", ".dot", "x" * 31, "émile", ""])
def test_malformed_handles_are_rejected(raw: str) -> None:
    with pytest.raises(BadRequest) as error:
        normalise_handle(raw)
    assert error.value.code == "INVALID_HANDLE"


def test_reserved_handles_are_taken() -> None:
    with pytest.raises(Conflict) as error:
        normalise_handle("@Admin")
    assert error.value.code == "HANDLE_TAKEN"


@pytest.mark.parametrize(("start", "duration", "audio"), [(0, 5, None), (10, 30, None), (85, 15, 100.0)])
def test_hooks_within_bounds_pass(start: float, duration: float, audio: float | None) -> None:
    check_hook(start, duration, audio)


@pytest.mark.parametrize(
    ("start", "duration", "audio"), [(-1, 15, None), (0, 4.9, None), (0, 30.5, None), (90, 15, 100.0)]
)
def test_hooks_out_of_bounds_fail(start: float, duration: float, audio: float | None) -> None:
    with pytest.raises(BadRequest) as error:
        check_hook(start, duration, audio)
    assert error.value.code == "INVALID_HOOK"


def test_a_hook_past_the_end_of_short_audio_is_moved_inside_it() -> None:
    assert fit_hook(30.0, 15.0, 20.0) == (5.0, 15.0)
    assert fit_hook(0.0, 15.0, 8.0) == (0.0, 8.0)
    assert fit_hook(0.0, 15.0, 60.0) is None


def test_only_artists_may_create_tracks() -> None:
    with pytest.raises(Forbidden) as no_profile:
        require_artist(None)
    assert no_profile.value.code == "PROFILE_REQUIRED"


def test_anonymous_callers_are_asked_to_sign_in() -> None:
    with pytest.raises(Unauthorized):
        require_track_owner(Caller(), track())


def test_another_user_is_not_the_owner() -> None:
    with pytest.raises(Forbidden) as error:
        require_track_owner(Caller(user_id="fan"), track())
    assert error.value.code == "NOT_TRACK_OWNER"


def test_fans_see_only_ready_visuals_and_the_artist_sees_all() -> None:
    fan, owner = Caller(user_id="fan"), Caller(user_id="artist")
    assert can_see(fan, track(), visual(MediaStatus.READY))
    for status in (MediaStatus.PROCESSING, MediaStatus.FAILED, MediaStatus.ARCHIVED):
        assert not can_see(fan, track(), visual(status))
        assert can_see(owner, track(), visual(status))


def test_anonymous_callers_never_see_unready_visuals_without_an_uploader() -> None:
    generated = visual(MediaStatus.PROCESSING, uploader_user_id=None, kind=VisualKind.AI)
    assert not can_see(Caller(), track(), generated)
    assert can_see(Caller(user_id="artist"), track(), generated)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (MediaStatus.ARCHIVED, "VISUAL_ARCHIVED"),
        (MediaStatus.PROCESSING, "VISUAL_NOT_READY"),
        (MediaStatus.FAILED, "VISUAL_NOT_READY"),
    ],
)
def test_only_ready_visuals_can_be_activated(status: MediaStatus, code: str) -> None:
    with pytest.raises(Conflict) as error:
        check_can_activate(visual(status))
    assert error.value.code == code


def test_only_archived_visuals_cannot_be_archived() -> None:
    with pytest.raises(Conflict):
        check_can_archive(visual(MediaStatus.ARCHIVED))
    for status in (MediaStatus.PROCESSING, MediaStatus.READY, MediaStatus.FAILED):
        check_can_archive(visual(status))


def test_an_upload_is_given_up_after_its_link_expires_plus_a_grace() -> None:
    from casset.rules import deadline_day, upload_deadline

    now = datetime(2026, 1, 1, 23, 50, tzinfo=UTC)
    deadline = upload_deadline(now, url_ttl_sec=900, grace_sec=900)
    assert deadline == datetime(2026, 1, 2, 0, 20, tzinfo=UTC)
    assert deadline_day(deadline) == "2026-01-02"


def test_a_visual_of_another_track_is_not_found() -> None:
    with pytest.raises(NotFound):
        visual_of_track(visual(MediaStatus.READY, track_id="t2"), "t1")


def test_admin_group_makes_an_admin() -> None:
    assert Caller(user_id="u", groups=frozenset({"admin"})).is_admin
    assert not Caller(user_id="u").is_admin


def test_a_queued_export_untouched_for_the_resend_interval_is_sent_again() -> None:
    from casset.entities import ExportJob, ExportStatus, RenderPlan
    from casset.rules import export_send_lost

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    plan = RenderPlan(
        renderer_version="1",
        track_id="t",
        audio_key="k",
        hook_start_sec=0,
        hook_duration_sec=5,
        title="T",
        artist="A",
        preset="low",
    )

    def job(status: ExportStatus, age_sec: float) -> ExportJob:
        at = now - timedelta(seconds=age_sec)
        return ExportJob(id="e", plan=plan, status=status, created_at=at, updated_at=at)

    assert export_send_lost(job(ExportStatus.QUEUED, 10), now, 10)
    assert not export_send_lost(job(ExportStatus.QUEUED, 9.9), now, 10)
    assert not export_send_lost(job(ExportStatus.RENDERING, 60), now, 10)
    assert not export_send_lost(job(ExportStatus.DONE, 60), now, 10)


def test_a_failed_preview_cut_counts_only_for_the_audio_and_hook_it_was_cut_from() -> None:
    from casset.rules import preview_failed, preview_source

    now = datetime(2026, 1, 1, tzinfo=UTC)
    failed = Track(
        id="t",
        artist_id="a",
        title="T",
        audio_key="tracks/t/audio/1.m4a",
        audio_status=MediaStatus.READY,
        preview_start_sec=3,
        hook_duration_sec=5,
        preview_failure_reason="CORRUPT",
        preview_failed_source=preview_source("tracks/t/audio/1.m4a", 3, 5),
        created_at=now,
        updated_at=now,
    )
    assert preview_failed(failed)
    assert not preview_failed(failed.model_copy(update={"preview_start_sec": 2}))
    assert not preview_failed(failed.model_copy(update={"audio_key": "tracks/t/audio/2.wav"}))
