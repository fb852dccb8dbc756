"""Helpers shared by the integration tests: fresh identities, uploads into the moto bucket, raw reads of
the tables and small media made once per session.

Every helper goes through the real API handler (the `api` fixture) or boto3 against moto, so the state a
test asserts on is the state the application wrote."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import av
import boto3
import numpy as np

from tests import media_factory

EVENTS = Path(__file__).resolve().parents[2] / "events"
MIB = 1024 * 1024
MAX_UPLOAD_BYTES = 500 * MIB

# (status, json body, headers), as the `api` fixture answers.
Reply = tuple[int, Any, dict[str, str]]
Api = Callable[..., Reply]


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def fresh(prefix: str = "u") -> str:
    """A unique, handle-safe identifier: tests share one moto account per module."""
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def bucket() -> str:
    return os.environ["MEDIA_BUCKET"]


def s3() -> Any:
    return boto3.client("s3")


def put_object(key: str, data: bytes, content_type: str) -> None:
    """What the browser's presigned POST does; moto then fires ObjectCreated, which runs the probe inline."""
    s3().put_object(Bucket=bucket(), Key=key, Body=data, ContentType=content_type)


def get_object(key: str) -> tuple[bytes, str]:
    found = s3().get_object(Bucket=bucket(), Key=key)
    return found["Body"].read(), found["ContentType"]


def object_exists(key: str) -> bool:
    listed = s3().list_objects_v2(Bucket=bucket(), Prefix=key).get("Contents", [])
    return any(entry["Key"] == key for entry in listed)


def object_tags(key: str) -> dict[str, str]:
    tag_set = s3().get_object_tagging(Bucket=bucket(), Key=key)["TagSet"]
    return {tag["Key"]: tag["Value"] for tag in tag_set}


def raw_item(table_env: str, key: dict[str, str]) -> dict[str, Any] | None:
    """The item exactly as DynamoDB stores it (table name from the function environment)."""
    response = boto3.client("dynamodb").get_item(
        TableName=os.environ[table_env],
        Key={name: {"S": value} for name, value in key.items()},
        ConsistentRead=True,
    )
    return response.get("Item")


def visual_item(visual_id: str) -> dict[str, Any] | None:
    return raw_item("VISUALS_TABLE", {"id": visual_id})


def track_item(track_id: str) -> dict[str, Any] | None:
    return raw_item("TRACKS_TABLE", {"id": track_id})


# Users, tracks, visuals through the API


@dataclass(frozen=True)
class Artist:
    """What the `artist` fixture makes: an artist's user id and one track of theirs."""

    user_id: str
    track_id: str


def create_profile(api: Api, *, artist: bool = True, user: str | None = None) -> str:
    user = user or fresh("user-")
    status, body, _ = api(
        "POST",
        "/api/users",
        user=user,
        body={"handle": fresh("h"), "displayName": "Someone", "isArtist": artist},
    )
    assert status == 201, body
    return user


def create_track(api: Api, user: str, **fields: Any) -> dict[str, Any]:
    """POST /api/tracks; returns the whole 201 body ({track, audioUpload})."""
    status, body, _ = api("POST", "/api/tracks", user=user, body={"title": "A song", **fields})
    assert status == 201, body
    return body


def get_track(api: Api, track_id: str) -> dict[str, Any]:
    status, body, _ = api("GET", f"/api/tracks/{track_id}")
    assert status == 200, body
    return body


def studio_visual(api: Api, user: str, visual_id: str) -> dict[str, Any]:
    status, body, _ = api("GET", f"/api/studio/visuals/{visual_id}", user=user)
    assert status == 200, body
    return body


def start_visual(api: Api, user: str, track_id: str, **fields: Any) -> dict[str, Any]:
    """POST a visual asking for an upload target; returns the 201 body ({visual, upload})."""
    status, body, _ = api(
        "POST", f"/api/tracks/{track_id}/visuals", user=user, body={"contentType": "video/mp4", **fields}
    )
    assert status == 201, body
    return body


def add_visual(
    api: Api, user: str, track_id: str, data: bytes, content_type: str = "video/mp4", **hints: Any
) -> dict[str, Any]:
    """Create a visual, upload its bytes (the probe runs inline) and return it as the studio sees it."""
    created = start_visual(api, user, track_id, contentType=content_type, **hints)
    put_object(created["upload"]["key"], data, content_type)
    return studio_visual(api, user, created["visual"]["id"])


def upload_media(api: Api, user: str, data: bytes, content_type: str) -> str:
    """POST /api/upload/media, then put the bytes at the key it handed out; returns the key."""
    status, body, _ = api("POST", "/api/upload/media", user=user, body={"contentType": content_type})
    assert status == 200, body
    put_object(body["key"], data, content_type)
    return str(body["key"])


def set_active(api: Api, user: str, track_id: str, visual_id: str, active: bool) -> Reply:
    return api(
        "PATCH", f"/api/tracks/{track_id}/visuals/{visual_id}/active", user=user, body={"active": active}
    )


def grant_collect(buyer: str, artist: str) -> str:
    """Make `buyer` a collector of `artist`: the GRANTED purchase a paid webhook leaves (the commerce tests
    drive the real Stripe path; here only the entitlement it gives matters). Returns its id."""
    purchase_id = fresh("pi_")
    boto3.client("dynamodb").put_item(
        TableName=os.environ["PURCHASES_TABLE"],
        Item={
            "id": {"S": purchase_id},
            "buyerId": {"S": buyer},
            "artistId": {"S": artist},
            "buyerArtist": {"S": f"{buyer}#{artist}"},
            "succeeded": {"BOOL": True},
            "state": {"S": "GRANTED"},
        },
    )
    return purchase_id


def error_code(reply: Reply) -> tuple[int, str]:
    status, body, _ = reply
    return status, body["code"]


# The contract


@cache
def _openapi_paths() -> dict[str, Any]:
    from api.openapi import build

    paths: dict[str, Any] = build()["paths"]
    return paths


def assert_declared(method: str, path: str, status: int) -> None:
    """The OpenAPI document declares `status` for the operation that serves this concrete path (of the
    templates that match it, the one with the most literal segments, as the router prefers)."""
    method = method.lower()
    matching = [
        template
        for template, operations in _openapi_paths().items()
        if method in operations and re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path.split("?")[0])
    ]
    assert matching, f"no operation serves {method.upper()} {path}"
    template = min(matching, key=lambda candidate: candidate.count("{"))
    operation = _openapi_paths()[template][method]
    label = f"{operation['operationId']} ({method.upper()} {template})"
    assert str(status) in operation["responses"], f"{label} answered {status}, which it does not declare"


# Media


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A real PNG file, encoded by FFmpeg's png encoder."""
    frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 200, dtype=np.uint8), format="rgb24")
    encoder = av.CodecContext.create("png", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "rgb24"
    encoder.time_base = Fraction(1, 1)
    return b"".join(bytes(packet) for packet in [*encoder.encode(frame), *encoder.encode(None)])


@dataclass
class Media:
    """Test media, each file made once per session (PyAV encodes are fast but not free)."""

    directory: Path

    def _file(self, name: str, make: Callable[[Path], Path]) -> bytes:
        path = self.directory / name
        if not path.exists():
            make(path)
        return path.read_bytes()

    # A tiny portrait clip: what the probe measures is known exactly.
    CLIP_SECONDS = 0.5
    CLIP_WIDTH = 64
    CLIP_HEIGHT = 112
    CLIP_FPS = 8

    @cached_property
    def clip(self) -> bytes:
        return self._file(
            "clip.mp4",
            lambda p: media_factory.make_video(
                p,
                seconds=self.CLIP_SECONDS,
                width=self.CLIP_WIDTH,
                height=self.CLIP_HEIGHT,
                fps=self.CLIP_FPS,
            ),
        )

    @cached_property
    def too_long_clip(self) -> bytes:
        return self._file(
            "long.mp4", lambda p: media_factory.make_video(p, seconds=31, width=64, height=112, fps=2)
        )

    @cached_property
    def too_wide_clip(self) -> bytes:
        return self._file(
            "wide.mp4", lambda p: media_factory.make_video(p, seconds=1 / 24, width=5000, height=16, fps=24)
        )

    @cached_property
    def corrupt_mp4(self) -> bytes:
        return self._file("corrupt.mp4", media_factory.make_corrupt_mp4)

    @cached_property
    def audio_only_mp4(self) -> bytes:
        return self._file("audio-only.mp4", lambda p: media_factory.make_audio_only_mp4(p, seconds=0.5))

    def audio(self, suffix: str, seconds: float = 6.0) -> bytes:
        return self._file(
            f"tone-{seconds:g}s{suffix}", lambda p: media_factory.make_audio(p, seconds=seconds)
        )

    def quiet_intro_audio(self, suffix: str, seconds: float = 8.0) -> bytes:
        """VBR MP3 without a Xing frame, or ADTS AAC, whose container estimates several times its length."""
        return self._file(
            f"quiet-intro-{seconds:g}s{suffix}",
            lambda p: media_factory.make_quiet_intro_audio(p, seconds=seconds),
        )

    @cached_property
    def audio_corrupt_after_2s(self) -> bytes:
        """8 s of M4A the probe accepts (its start decodes) but no hook preview can be cut from."""
        return self._file("corrupt-after-2s.m4a", lambda p: media_factory.make_m4a_corrupt_after(p))

    @cached_property
    def png(self) -> bytes:
        return png_bytes()
