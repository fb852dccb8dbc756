"""The one place that reads configuration: environment variables parsed once into typed settings."""

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    stage: str = Field("dev", alias="STAGE")
    users_table: str = Field("Users", alias="USERS_TABLE")
    handles_table: str = Field("Handles", alias="HANDLES_TABLE")
    tracks_table: str = Field("Tracks", alias="TRACKS_TABLE")
    visuals_table: str = Field("Visuals", alias="VISUALS_TABLE")
    rate_limits_table: str = Field("RateLimits", alias="RATE_LIMITS_TABLE")
    exports_table: str = Field("Exports", alias="EXPORTS_TABLE")
    render_queue_url: str = Field("", alias="RENDER_QUEUE_URL")
    media_bucket: str = Field("casset-media", alias="MEDIA_BUCKET")

    # Presigned upload and download links.
    upload_url_ttl_sec: int = Field(900, alias="UPLOAD_URL_TTL_SEC")
    download_url_ttl_sec: int = Field(3600, alias="DOWNLOAD_URL_TTL_SEC")
    max_upload_bytes: int = Field(500 * MIB, alias="MAX_UPLOAD_BYTES")

    # Media rules the probe enforces.
    max_visual_duration_sec: float = Field(30.0, alias="MAX_VISUAL_DURATION_SEC")
    max_audio_duration_sec: float = Field(3600.0, alias="MAX_AUDIO_DURATION_SEC")
    max_video_side_px: int = Field(4096, alias="MAX_VIDEO_SIDE_PX")

    # Exports: outputs live 7 days (bucket lifecycle); a job record a little less, so a cache hit never
    # points at an expired file.
    export_retention_days: int = Field(6, alias="EXPORT_RETENTION_DAYS")

    # Request guards.
    max_body_bytes: int = Field(64 * 1024, alias="MAX_BODY_BYTES")
    mutations_per_minute: int = Field(60, alias="RATE_LIMIT_MUTATIONS_PER_MINUTE")

    # Which JWT claim carries the caller's groups (Cognito's by default).
    groups_claim: str = Field("cognito:groups", alias="AUTH_GROUPS_CLAIM")
    enable_swagger: bool = Field(False, alias="ENABLE_SWAGGER")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
