"""The media bucket's key layout. Upload events under visuals/ and tracks/*/audio/ invoke the probe
(template.yaml filters on these prefixes and the extensions in media_types)."""

import re
from dataclasses import dataclass

from casset.media_types import MediaType

_ID = r"[0-9a-z]{26}"
_EXT = r"[a-z0-9]{2,5}"
# Matched whole (fullmatch): with `^...$`, a key ending in a newline would pass.
_UPLOAD = re.compile(
    rf"uploads/(?P<category>video|audio|image)/(?P<user>[^/]+)/(?P<upload>{_ID})\.(?P<ext>{_EXT})"
)
_VISUAL_SOURCE = re.compile(rf"visuals/(?P<track>{_ID})/(?P<visual>{_ID})/source\.(?P<ext>{_EXT})")
_TRACK_AUDIO = re.compile(rf"tracks/(?P<track>{_ID})/audio/(?P<upload>{_ID})\.(?P<ext>{_EXT})")

VISUALS_PREFIX = "visuals/"
TRACKS_PREFIX = "tracks/"


@dataclass(frozen=True)
class VisualSource:
    track_id: str
    visual_id: str


@dataclass(frozen=True)
class TrackAudio:
    track_id: str
    upload_id: str


@dataclass(frozen=True)
class Upload:
    category: str
    user_id: str
    upload_id: str
    extension: str


def upload(user_id: str, upload_id: str, media_type: MediaType) -> str:
    return f"uploads/{media_type.category.value}/{user_id}/{upload_id}.{media_type.extension}"


def visual_source(track_id: str, visual_id: str, media_type: MediaType) -> str:
    return f"{VISUALS_PREFIX}{track_id}/{visual_id}/source.{media_type.extension}"


def visual_poster(track_id: str, visual_id: str) -> str:
    return f"{VISUALS_PREFIX}{track_id}/{visual_id}/poster.jpg"


def track_audio(track_id: str, upload_id: str, media_type: MediaType) -> str:
    return f"{TRACKS_PREFIX}{track_id}/audio/{upload_id}.{media_type.extension}"


def track_cover(track_id: str, upload_id: str, media_type: MediaType) -> str:
    return f"{TRACKS_PREFIX}{track_id}/cover/{upload_id}.{media_type.extension}"


def user_avatar(user_id: str, upload_id: str, media_type: MediaType) -> str:
    return f"users/{user_id}/avatar/{upload_id}.{media_type.extension}"


def parse_upload(key: str) -> Upload | None:
    match = _UPLOAD.fullmatch(key)
    if not match:
        return None
    return Upload(match["category"], match["user"], match["upload"], match["ext"])


def parse_probe_target(key: str) -> VisualSource | TrackAudio | None:
    if match := _VISUAL_SOURCE.fullmatch(key):
        return VisualSource(match["track"], match["visual"])
    if match := _TRACK_AUDIO.fullmatch(key):
        return TrackAudio(match["track"], match["upload"])
    return None


def export_output(export_id: str) -> str:
    return f"exports/{export_id}.mp4"


def track_preview(track_id: str, digest: str) -> str:
    """Outside tracks/ on purpose: the probe's S3 triggers watch tracks/*.m4a."""
    return f"previews/{track_id}/{digest}.m4a"
