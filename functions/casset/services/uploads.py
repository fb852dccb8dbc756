"""Browser uploads: presigned POSTs into the caller's upload prefix, and adopting an upload into place."""

from casset import keys
from casset.data import storage
from casset.errors import BadRequest, Forbidden, PayloadTooLarge
from casset.ids import new_id
from casset.media.magic import AUDIO_CONTAINERS, HEAD_BYTES, IMAGE_CONTAINERS, VIDEO_CONTAINERS, sniff
from casset.media_types import MediaCategory, MediaType, media_type
from casset.rules import Caller
from casset.settings import get_settings

_CONTAINERS = {
    MediaCategory.VIDEO: VIDEO_CONTAINERS,
    MediaCategory.AUDIO: AUDIO_CONTAINERS,
    MediaCategory.IMAGE: IMAGE_CONTAINERS,
}


def check_size(size_bytes: int | None) -> None:
    limit = get_settings().max_upload_bytes
    if size_bytes is not None and size_bytes > limit:
        raise PayloadTooLarge(f"Files are limited to {limit // (1024 * 1024)} MB.", code="FILE_TOO_LARGE")


def target(key: str, kind: MediaType) -> storage.UploadTarget:
    return storage.presigned_upload(key, kind.content_type, get_settings().max_upload_bytes)


def create_upload(caller: Caller, content_type: str, size_bytes: int | None) -> storage.UploadTarget:
    kind = media_type(content_type)
    check_size(size_bytes)
    return target(keys.upload(caller.require_user(), new_id(), kind), kind)


def adopt(caller: Caller, upload_key: str, category: MediaCategory) -> tuple[MediaType, str]:
    """Check an earlier upload is the caller's, of the right kind and really that kind of file.
    Returns its media type and upload id; the caller then copies it into place with `storage.copy`."""
    upload = keys.parse_upload(upload_key)
    if upload is None:
        raise BadRequest("That is not a key handed out by /api/upload/media.", code="INVALID_UPLOAD_KEY")
    if upload.user_id != caller.require_user():
        raise Forbidden("That upload belongs to someone else.", code="UPLOAD_NOT_OWNED")
    if upload.category != category.value:
        raise BadRequest(f"Expected a {category.value} upload.", code="UNSUPPORTED_MEDIA_TYPE")
    found = storage.describe(upload_key)
    check_size(found.size_bytes)
    kind = media_type(found.content_type or "", expected=category)
    if sniff(storage.read_head(upload_key, HEAD_BYTES)) not in _CONTAINERS[category]:
        raise BadRequest(f"The uploaded file is not a {category.value} file.", code="UNSUPPORTED_FORMAT")
    return kind, upload.upload_id
