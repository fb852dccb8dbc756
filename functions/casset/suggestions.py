"""Suggested visuals, phase 1 (spec §8): tag overlap first, then recency, then pairings. No ML, and every
suggestion says why in plain words, because an artist should never have to trust a black box."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from casset.entities import Visual
from casset.tags import BY_SLUG, TRACK_CATEGORIES

FRESH = timedelta(days=7)
RECENT = timedelta(days=30)


@dataclass(frozen=True)
class Suggestion:
    visual: Visual
    matched: list[str]  # tag slugs shared with the track
    reason: str


def _recency(visual: Visual, now: datetime) -> int:
    age = now - visual.created_at
    return 2 if age <= FRESH else 1 if age <= RECENT else 0


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _reason(matched: list[str], visual: Visual, now: datetime) -> str:
    parts = [
        f"matched on: {', '.join(BY_SLUG[slug].label.lower() for slug in matched)}"
        if matched
        else "no shared tags"
    ]
    parts.append(_plural(visual.metrics.pairings, "pairing"))
    recency = _recency(visual, now)
    if recency == 2:
        parts.append("new this week")
    elif recency == 1:
        parts.append("added this month")
    return " · ".join(parts)


def rank(track_tags: list[str], candidates: list[Visual], now: datetime, limit: int) -> list[Suggestion]:
    """Candidates ordered by how many of the track's genre/mood tags they share, then how recent they are
    (this week, this month, older), then how often artists paired them, newest first on a tie."""
    wanted = [slug for slug in track_tags if slug in BY_SLUG and BY_SLUG[slug].category in TRACK_CATEGORIES]

    def order(visual: Visual) -> tuple:
        shared = sum(slug in visual.tags for slug in wanted)
        return (-shared, -_recency(visual, now), -visual.metrics.pairings, -visual.created_at.timestamp())

    suggestions = []
    for visual in sorted(candidates, key=order)[:limit]:
        matched = [slug for slug in wanted if slug in visual.tags]
        suggestions.append(Suggestion(visual, matched, _reason(matched, visual, now)))
    return suggestions
