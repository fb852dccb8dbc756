"""Suggestions, phase 1: tag overlap with the track, then recency, then pairings; each one says why."""

from datetime import UTC, datetime, timedelta

from casset.entities import MediaStatus, Metrics, Visual, VisualKind
from casset.suggestions import rank

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def visual(name: str, tags: list[str], *, age_days: float = 60, pairings: int = 0) -> Visual:
    created = NOW - timedelta(days=age_days)
    return Visual(
        id=name,
        track_id="t",
        kind=VisualKind.ARTIST,
        status=MediaStatus.READY,
        source_key=f"visuals/{name}.mp4",
        content_type="video/mp4",
        tags=tags,
        metrics=Metrics(pairings=pairings),
        created_at=created,
        updated_at=created,
    )


def names(track_tags: list[str], candidates: list[Visual], limit: int = 10) -> list[str]:
    return [found.visual.id for found in rank(track_tags, candidates, NOW, limit)]


def test_more_shared_tags_rank_first_whatever_the_age_or_popularity() -> None:
    candidates = [
        visual("one-match-popular-new", ["dark"], age_days=1, pairings=500),
        visual("two-matches-old", ["dark", "lofi", "film"], age_days=400),
        visual("no-match", ["euphoric"], age_days=0, pairings=900),
    ]
    assert names(["dark", "lofi"], candidates) == ["two-matches-old", "one-match-popular-new", "no-match"]


def test_on_equal_overlap_recent_beats_old_and_then_pairings_decide() -> None:
    candidates = [
        visual("old-popular", ["dark"], age_days=90, pairings=84),
        visual("this-week", ["dark"], age_days=2, pairings=0),
        visual("this-month-popular", ["dark"], age_days=20, pairings=50),
        visual("this-month-quiet", ["dark"], age_days=10, pairings=3),
    ]
    assert names(["dark"], candidates) == [
        "this-week",
        "this-month-popular",
        "this-month-quiet",
        "old-popular",
    ]


def test_only_genre_and_mood_tags_of_the_track_count() -> None:
    candidates = [visual("film-only", ["film"]), visual("dark", ["dark"])]
    found = rank(["dark", "film"], candidates, NOW, 10)
    assert [item.visual.id for item in found] == ["dark", "film-only"]
    assert found[1].matched == []


def test_every_suggestion_says_why_in_plain_words() -> None:
    found = rank(
        ["dark", "lofi"],
        [
            visual("a", ["dark", "lofi", "film"], pairings=84),
            visual("b", ["dark"], age_days=3, pairings=1),
            visual("c", [], age_days=15),
        ],
        NOW,
        10,
    )
    assert [item.reason for item in found] == [
        "matched on: dark, lo-fi · 84 pairings",
        "matched on: dark · 1 pairing · new this week",
        "no shared tags · 0 pairings · added this month",
    ]
    assert found[0].matched == ["dark", "lofi"]


def test_the_limit_keeps_the_best() -> None:
    candidates = [visual(f"v{i}", ["dark"] * (i % 2), pairings=i) for i in range(20)]
    top = names(["dark"], candidates, limit=3)
    assert top == ["v19", "v17", "v15"]
