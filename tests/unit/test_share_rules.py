"""The pure rules of shares and of exports started from one: short ids, the preview URL, who earns a
referral, which visual shows and why, and the export id's dependence on the visual. No AWS."""

import string
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from casset.entities import AudioInfo, HookShare, MediaStatus, Track, User, VideoInfo, Visual, VisualKind
from casset.errors import BadRequest, Conflict, NotFound
from casset.rules import Caller
from casset.services import exports, shares
from casset.settings import get_settings

NOW = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.fixture(autouse=True)
def sites(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SITE_URL", "https://casset.example/")
    monkeypatch.setenv("SHORT_LINK_BASE_URL", "https://cas.st")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def track(**changes: object) -> Track:
    fields = {
        "id": "t1",
        "artist_id": "artist",
        "title": "Song",
        "audio_key": "tracks/t1/a.wav",
        "audio_status": MediaStatus.READY,
        "audio": AudioInfo(duration_sec=60.0, sample_rate=48000, channels=2, codec="pcm", size_bytes=1),
        "preview_start_sec": 10.0,
        "hook_duration_sec": 15.0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Track.model_validate(fields | changes)


def visual(visual_id: str = "v1", status: MediaStatus = MediaStatus.READY, **changes: object) -> Visual:
    fields = {
        "id": visual_id,
        "track_id": "t1",
        "kind": VisualKind.ARTIST,
        "status": status,
        "source_key": f"visuals/t1/{visual_id}/source.mp4",
        "content_type": "video/mp4",
        "media": VideoInfo(
            duration_sec=2.0,
            width_px=180,
            height_px=320,
            fps=30.0,
            codec="h264",
            rotation_deg=0,
            mean_luminance=0.4,
            size_bytes=1000,
        ),
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Visual.model_validate(fields | changes)


def user(user_id: str, *, artist: bool = False) -> User:
    return User(
        id=user_id, handle=user_id, display_name=user_id, is_artist=artist, created_at=NOW, updated_at=NOW
    )


def share(**changes: object) -> HookShare:
    fields = {"id": "abcdEFGH2", "track_id": "t1", "hook_start_sec": 10.0, "sharer_user_id": "fan"}
    return HookShare.model_validate(fields | {"created_at": NOW} | changes)


# Short ids


def test_share_ids_are_nine_url_safe_characters_without_look_alikes() -> None:
    ids = {shares.new_share_id() for _ in range(20_000)}
    assert len(ids) == 20_000
    characters = set("".join(ids))
    assert characters <= set(string.ascii_letters + string.digits)
    assert characters.isdisjoint("0O1lI")
    assert all(len(share_id) == 9 and shares.is_share_id(share_id) for share_id in ids)


@pytest.mark.parametrize("text", ["", "abcdEFGH", "abcdEFGH23", "abcdEFGH0", "abcd/FGH2", "../../etc"])
def test_anything_else_is_not_a_share_id(text: str) -> None:
    assert not shares.is_share_id(text)


# URLs


def test_the_short_link_lives_under_the_short_link_base() -> None:
    assert shares.share_url("abcdEFGH2") == "https://cas.st/s/abcdEFGH2"


def test_the_preview_url_carries_start_visual_and_share() -> None:
    url = shares.preview_url("t1", 12.5, "v1", "abcdEFGH2", None)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://casset.example/preview/t1"
    assert parse_qs(parts.query) == {"t": ["12.5"], "v": ["v1"], "s": ["abcdEFGH2"]}


def test_the_preview_url_says_when_the_visual_fell_back_and_omits_a_missing_visual() -> None:
    fallback = shares.Fallback(shares.VISUAL_UNAVAILABLE, "gone")
    query = parse_qs(urlsplit(shares.preview_url("t1", 3.0, None, "abcdEFGH2", fallback)).query)
    assert query == {"t": ["3"], "s": ["abcdEFGH2"], "fallback": ["visual_unavailable"]}


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.0, "0"), (3.0, "3"), (12.5, "12.5"), (1234.5678, "1234.568"), (0.1, "0.1")]
)
def test_seconds_keep_millisecond_precision_without_float_noise(seconds: float, text: str) -> None:
    assert shares.seconds_text(seconds) == text


# Referrals


def test_a_fan_with_a_profile_earns_a_referral_for_the_artist() -> None:
    assert shares.referral_due(user("fan"), user("artist", artist=True))


def test_the_artist_sharing_their_own_track_earns_nothing() -> None:
    assert not shares.referral_due(user("artist", artist=True), user("artist", artist=True))


def test_no_referral_without_a_sharer_profile_or_an_artist() -> None:
    assert not shares.referral_due(None, user("artist", artist=True))
    assert not shares.referral_due(user("fan"), user("artist", artist=False))
    assert not shares.referral_due(user("fan"), None)


# Visuals


def test_an_asked_visual_must_be_of_the_track_and_ready() -> None:
    artist, fan = Caller(user_id="artist"), Caller(user_id="fan")
    assert shares.check_ready(fan, visual(), track()).id == "v1"
    with pytest.raises(NotFound) as missing:
        shares.check_ready(artist, None, track())
    with pytest.raises(NotFound) as foreign:
        shares.check_ready(artist, visual(track_id="t2"), track())
    with pytest.raises(Conflict) as archived:
        shares.check_ready(artist, visual(status=MediaStatus.ARCHIVED), track())
    with pytest.raises(NotFound) as hidden:  # as GET /api/visuals/{id} answers a fan
        shares.check_ready(fan, visual(status=MediaStatus.ARCHIVED), track())
    assert missing.value.code == foreign.value.code == hidden.value.code == "VISUAL_NOT_FOUND"
    assert archived.value.code == "VISUAL_NOT_READY"


def test_an_archived_shared_visual_says_it_fell_back_to_the_active_one() -> None:
    fallback = shares.unavailable("v1", visual(status=MediaStatus.ARCHIVED), visual("v2"))
    assert fallback.code == "VISUAL_UNAVAILABLE"
    assert "v1 was archived by the artist" in fallback.message
    assert "active visual (v2) instead" in fallback.message


def test_a_vanished_shared_visual_without_an_active_one_falls_back_to_the_cover() -> None:
    fallback = shares.unavailable("v1", None, None)
    assert "v1 no longer exists" in fallback.message and "its cover is shown" in fallback.message


# The hook


def test_the_shared_hook_keeps_its_start_with_the_tracks_hook_length() -> None:
    assert shares.hook_of(share(hook_start_sec=20.0), track()) == (20.0, 15.0)


def test_a_hook_lengthened_since_is_moved_back_inside_the_audio() -> None:
    assert shares.hook_of(share(hook_start_sec=40.0), track(hook_duration_sec=30.0)) == (30.0, 30.0)


# Exports started from a share


def test_the_body_visual_and_the_query_visual_must_agree() -> None:
    assert exports.asked_visual("v1", None) == exports.asked_visual(None, "v1") == "v1"
    assert exports.asked_visual("v1", "v1") == "v1"
    assert exports.asked_visual(None, None) is None
    with pytest.raises(BadRequest) as conflict:
        exports.asked_visual("v1", "v2")
    assert conflict.value.code == "CONFLICTING_VISUAL_IDS"


def test_the_exported_track_comes_from_the_share_and_must_match_a_given_one() -> None:
    assert exports.track_of(None, share()) == exports.track_of("t1", share()) == "t1"
    assert exports.track_of("t9", None) == "t9"
    with pytest.raises(BadRequest) as mismatch:
        exports.track_of("t2", share())
    with pytest.raises(BadRequest) as neither:
        exports.track_of(None, None)
    assert mismatch.value.code == "SHARE_TRACK_MISMATCH" and neither.value.code == "TRACK_REQUIRED"


def test_the_export_id_changes_with_the_visual_and_only_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports.users_data, "get_user", lambda _: user("artist", artist=True))

    def export_id(shown: Visual | None) -> str:
        return exports.export_id_for(exports.plan_export(track(), 10.0, 15.0, shown, None, "standard"))

    first, again, other = export_id(visual("v1")), export_id(visual("v1")), export_id(visual("v2"))
    assert first == again
    assert len({first, other, export_id(None)}) == 3
