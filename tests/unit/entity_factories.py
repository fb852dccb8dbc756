"""Entities for the pure-rule tests: a track and a visual of it, with any field changed."""

from datetime import UTC, datetime

from casset.entities import MediaStatus, Track, Visual, VisualKind

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def track(**changes: object) -> Track:
    fields = {
        "id": "t1",
        "artist_id": "artist",
        "title": "Song",
        "preview_start_sec": 0.0,
        "hook_duration_sec": 15.0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Track.model_validate(fields | changes)


def visual(status: MediaStatus = MediaStatus.READY, **changes: object) -> Visual:
    fields = {
        "id": "v1",
        "track_id": "t1",
        "kind": VisualKind.ARTIST,
        "status": status,
        "uploader_user_id": "artist",
        "source_key": "visuals/t1/v1/source.mp4",
        "content_type": "video/mp4",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Visual.model_validate(fields | changes)
