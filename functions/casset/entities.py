"""Domain entities: what the business rules work on. The data layer maps DB items to these explicitly."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class VisualKind(StrEnum):
    ARTIST = "ARTIST"  # uploaded by the track's artist
    COMMUNITY = "COMMUNITY"  # submitted by a visual creator, approved
    AI = "AI"  # feature-flagged future generation provider


class MediaStatus(StrEnum):
    PENDING_UPLOAD = "PENDING_UPLOAD"  # a track created before its audio arrived
    PROCESSING = "PROCESSING"  # uploaded, waiting for the probe
    READY = "READY"
    FAILED = "FAILED"
    ARCHIVED = "ARCHIVED"  # soft-hidden by the owner


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True)


class User(Entity):
    id: str
    handle: str
    display_name: str
    bio: str | None = None
    avatar_key: str | None = None
    is_artist: bool = False
    stripe_account_id: str | None = None
    stripe_onboarding_complete: bool = False
    created_at: datetime
    updated_at: datetime


class AudioInfo(Entity):
    duration_sec: float
    sample_rate: int
    channels: int
    codec: str
    size_bytes: int


class Track(Entity):
    id: str
    artist_id: str
    title: str
    audio_key: str | None = None
    audio_status: MediaStatus = MediaStatus.PENDING_UPLOAD
    audio_failure_reason: str | None = None
    audio: AudioInfo | None = None
    cover_key: str | None = None
    preview_start_sec: float
    hook_duration_sec: float
    active_visual_id: str | None = None
    created_at: datetime
    updated_at: datetime


class VideoInfo(Entity):
    duration_sec: float
    width_px: int
    height_px: int
    fps: float | None
    codec: str
    rotation_deg: int
    mean_luminance: float
    size_bytes: int


class DeclaredMedia(Entity):
    """What the client said about its upload: hints only, the probe's figures are the truth."""

    duration_sec: float | None = None
    width_px: int | None = None
    height_px: int | None = None
    size_bytes: int | None = None


class Metrics(Entity):
    impressions: int = 0
    pairings: int = 0
    exports: int = 0
    shares: int = 0


class Visual(Entity):
    id: str
    track_id: str
    kind: VisualKind
    status: MediaStatus
    failure_reason: str | None = None
    failure_message: str | None = None
    uploader_user_id: str | None = None
    submission_id: str | None = None
    source_model: str | None = None
    source_prompt_hash: str | None = None
    source_prompt_text: str | None = None
    source_key: str
    content_type: str
    poster_key: str | None = None
    media: VideoInfo | None = None
    declared: DeclaredMedia = DeclaredMedia()
    is_active: bool = False
    metrics: Metrics = Metrics()
    archived_from: MediaStatus | None = None
    created_at: datetime
    updated_at: datetime


class ExportStatus(StrEnum):
    QUEUED = "QUEUED"
    RENDERING = "RENDERING"
    DONE = "DONE"
    FAILED = "FAILED"


class RenderPlan(Entity):
    """Everything that decides the output's bytes. Its hash is the export's id, so an identical request
    finds the finished export and any changed input (a new audio upload, another visual, another title)
    is a different export."""

    renderer_version: str
    track_id: str
    audio_key: str  # a new upload is a new key: the track audio's version
    hook_start_sec: float
    hook_duration_sec: float
    visual_id: str | None = None
    visual_key: str | None = None  # the visual's version
    visual_mean_luminance: float | None = None
    cover_key: str | None = None
    avatar_key: str | None = None
    title: str
    artist: str
    share_url: str | None = None
    attribution_handle: str | None = None
    preset: str


class ExportOutput(Entity):
    size_bytes: int
    duration_sec: float
    width: int
    height: int
    fps: int
    video_bitrate: int
    audio_bitrate: int


class ExportJob(Entity):
    id: str
    plan: RenderPlan
    status: ExportStatus
    progress: int = 0
    eta_sec: float | None = None
    warnings: list[str] = []
    failure_reason: str | None = None
    failure_message: str | None = None
    output_key: str | None = None
    output: ExportOutput | None = None
    requested_by: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    render_sec: float | None = None
    created_at: datetime
    updated_at: datetime
