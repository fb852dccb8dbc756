"""Which uploads we accept, and what each content type means for storage and probing."""

from dataclasses import dataclass
from enum import StrEnum

from casset.errors import BadRequest


class MediaCategory(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    IMAGE = "image"


@dataclass(frozen=True)
class MediaType:
    content_type: str
    category: MediaCategory
    extension: str


_TYPES = [
    MediaType("video/mp4", MediaCategory.VIDEO, "mp4"),
    MediaType("video/quicktime", MediaCategory.VIDEO, "mov"),
    MediaType("video/webm", MediaCategory.VIDEO, "webm"),
    MediaType("audio/mpeg", MediaCategory.AUDIO, "mp3"),
    MediaType("audio/wav", MediaCategory.AUDIO, "wav"),
    MediaType("audio/x-wav", MediaCategory.AUDIO, "wav"),
    MediaType("audio/wave", MediaCategory.AUDIO, "wav"),
    MediaType("audio/mp4", MediaCategory.AUDIO, "m4a"),
    MediaType("audio/x-m4a", MediaCategory.AUDIO, "m4a"),
    MediaType("audio/aac", MediaCategory.AUDIO, "aac"),
    MediaType("audio/flac", MediaCategory.AUDIO, "flac"),
    MediaType("audio/x-flac", MediaCategory.AUDIO, "flac"),
    MediaType("audio/ogg", MediaCategory.AUDIO, "ogg"),
    MediaType("image/jpeg", MediaCategory.IMAGE, "jpg"),
    MediaType("image/png", MediaCategory.IMAGE, "png"),
    MediaType("image/webp", MediaCategory.IMAGE, "webp"),
]
BY_CONTENT_TYPE = {media_type.content_type: media_type for media_type in _TYPES}
VIDEO_EXTENSIONS = sorted({t.extension for t in _TYPES if t.category is MediaCategory.VIDEO})
AUDIO_EXTENSIONS = sorted({t.extension for t in _TYPES if t.category is MediaCategory.AUDIO})


def media_type(content_type: str, *, expected: MediaCategory | None = None) -> MediaType:
    """The accepted type for a Content-Type header value (parameters such as charset are ignored)."""
    found = BY_CONTENT_TYPE.get(content_type.split(";")[0].strip().lower())
    if found is None or (expected is not None and found.category is not expected):
        allowed = sorted(t.content_type for t in _TYPES if expected is None or t.category is expected)
        raise BadRequest(
            f"Unsupported content type {content_type!r}; allowed: {', '.join(allowed)}.",
            code="UNSUPPORTED_MEDIA_TYPE",
        )
    return found
