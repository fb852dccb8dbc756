"""The media bucket through boto3: presigned uploads and downloads, server-side copies, small reads."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from casset.clock import utcnow
from casset.errors import NotFound, Unavailable
from casset.settings import get_settings

_MISSING = {"404", "NoSuchKey", "NotFound"}
_THROTTLED = {"SlowDown", "503", "ServiceUnavailable", "RequestTimeout"}


@dataclass(frozen=True)
class UploadTarget:
    url: str
    fields: dict[str, str]
    key: str
    content_type: str
    max_bytes: int
    expires_at: datetime


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size_bytes: int
    content_type: str | None


@lru_cache(maxsize=1)
def _s3() -> Any:
    # SigV4 everywhere: presigned POSTs and GETs must verify in every region.
    return boto3.client("s3", config=Config(signature_version="s3v4", retries={"mode": "standard"}))


def _bucket() -> str:
    return get_settings().media_bucket


def _translated(error: ClientError, key: str) -> Exception:
    code = error.response.get("Error", {}).get("Code", "")
    if code in _MISSING:
        return NotFound(f"No uploaded object at {key}.", code="UPLOAD_NOT_FOUND")
    if code in _THROTTLED:
        return Unavailable("Storage is busy; retry shortly.")
    return error


def presigned_upload(key: str, content_type: str, max_bytes: int) -> UploadTarget:
    ttl = get_settings().upload_url_ttl_sec
    post = _s3().generate_presigned_post(
        Bucket=_bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=ttl,
    )
    return UploadTarget(
        url=post["url"],
        fields=post["fields"],
        key=key,
        content_type=content_type,
        max_bytes=max_bytes,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )


def presigned_download(key: str) -> str:
    url: str = _s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": _bucket(), "Key": key},
        ExpiresIn=get_settings().download_url_ttl_sec,
    )
    return url


def describe(key: str) -> ObjectInfo:
    try:
        head = _s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        raise _translated(error, key) from error
    return ObjectInfo(key=key, size_bytes=head["ContentLength"], content_type=head.get("ContentType"))


def read_head(key: str, size: int) -> bytes:
    try:
        response = _s3().get_object(Bucket=_bucket(), Key=key, Range=f"bytes=0-{size - 1}")
    except ClientError as error:
        raise _translated(error, key) from error
    body: bytes = response["Body"].read()
    return body


def download(key: str, path: str) -> None:
    try:
        _s3().download_file(_bucket(), key, path)
    except ClientError as error:
        raise _translated(error, key) from error


def copy(source_key: str, target_key: str, content_type: str) -> None:
    """Server-side copy (no bytes through Lambda); the copy fires ObjectCreated at the target key."""
    try:
        _s3().copy_object(
            Bucket=_bucket(),
            Key=target_key,
            CopySource={"Bucket": _bucket(), "Key": source_key},
            ContentType=content_type,
            MetadataDirective="REPLACE",
        )
    except ClientError as error:
        raise _translated(error, source_key) from error


def put(key: str, body: bytes, content_type: str) -> None:
    try:
        _s3().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType=content_type)
    except ClientError as error:
        raise _translated(error, key) from error


def tag(key: str, tags: dict[str, str]) -> None:
    """Tags drive the bucket's lifecycle rules (archived to cold storage, failed purged)."""
    try:
        _s3().put_object_tagging(
            Bucket=_bucket(),
            Key=key,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        )
    except ClientError as error:
        raise _translated(error, key) from error


def untag(key: str) -> None:
    try:
        _s3().delete_object_tagging(Bucket=_bucket(), Key=key)
    except ClientError as error:
        raise _translated(error, key) from error


def upload(path: str, key: str, content_type: str) -> None:
    try:
        _s3().upload_file(path, _bucket(), key, ExtraArgs={"ContentType": content_type})
    except ClientError as error:
        raise _translated(error, key) from error


def presigned_download_with_expiry(
    key: str, filename: str | None = None, ttl_sec: int | None = None
) -> tuple[str, datetime]:
    """A GET URL and when it stops working; with filename, browsers save it under that name."""
    ttl = ttl_sec or get_settings().download_url_ttl_sec
    params: dict[str, str] = {"Bucket": _bucket(), "Key": key}
    if filename:
        params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    url: str = _s3().generate_presigned_url("get_object", Params=params, ExpiresIn=ttl)
    return url, utcnow() + timedelta(seconds=ttl)
