"""PynamoDB items, one class per DynamoDB table declared in template.yaml (a test keeps the two in step)."""

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from casset.settings import Settings


class UserItem(Model):
    class Meta:
        table_name = "Users"

    id = UnicodeAttribute(hash_key=True)
    handle = UnicodeAttribute()
    display_name = UnicodeAttribute(attr_name="displayName")
    bio = UnicodeAttribute(null=True)
    avatar_key = UnicodeAttribute(attr_name="avatarKey", null=True)
    is_artist = BooleanAttribute(attr_name="isArtist", default=False)
    stripe_account_id = UnicodeAttribute(attr_name="stripeAccountId", null=True)
    stripe_onboarding_complete = BooleanAttribute(attr_name="stripeOnboardingComplete", default=False)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class HandleItem(Model):
    """Claims a handle for one user; a transaction writes it with the user so handles stay unique."""

    class Meta:
        table_name = "Handles"

    handle = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute(attr_name="userId")


class TracksByArtist(GlobalSecondaryIndex["TrackItem"]):
    class Meta:
        index_name = "byArtist"
        projection = AllProjection()

    artist_id = UnicodeAttribute(hash_key=True, attr_name="artistId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class AudioAttribute(MapAttribute):
    duration_sec = NumberAttribute(attr_name="durationSec")
    sample_rate = NumberAttribute(attr_name="sampleRate")
    channels = NumberAttribute()
    codec = UnicodeAttribute()
    size_bytes = NumberAttribute(attr_name="sizeBytes")


class TrackItem(Model):
    class Meta:
        table_name = "Tracks"

    id = UnicodeAttribute(hash_key=True)
    artist_id = UnicodeAttribute(attr_name="artistId")
    title = UnicodeAttribute()
    audio_key = UnicodeAttribute(attr_name="audioKey", null=True)
    audio_status = UnicodeAttribute(attr_name="audioStatus")
    audio_failure_reason = UnicodeAttribute(attr_name="audioFailureReason", null=True)
    audio = AudioAttribute(null=True)
    cover_key = UnicodeAttribute(attr_name="coverKey", null=True)
    preview_start_sec = NumberAttribute(attr_name="previewStartSec")
    hook_duration_sec = NumberAttribute(attr_name="hookDurationSec")
    active_visual_id = UnicodeAttribute(attr_name="activeVisualId", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    by_artist = TracksByArtist()


class VisualsByTrack(GlobalSecondaryIndex["VisualItem"]):
    """Every visual of a track, any status: the artist's studio view."""

    class Meta:
        index_name = "byTrack"
        projection = AllProjection()

    track_id = UnicodeAttribute(hash_key=True, attr_name="trackId")
    list_key = UnicodeAttribute(range_key=True, attr_name="listKey")


class ReadyVisualsByTrack(GlobalSecondaryIndex["VisualItem"]):
    """Sparse: only READY visuals carry readyTrackId, so the public list is a pure key query."""

    class Meta:
        index_name = "readyByTrack"
        projection = AllProjection()

    ready_track_id = UnicodeAttribute(hash_key=True, attr_name="readyTrackId")
    list_key = UnicodeAttribute(range_key=True, attr_name="listKey")


class VisualsByUploader(GlobalSecondaryIndex["VisualItem"]):
    class Meta:
        index_name = "byUploader"
        projection = KeysOnlyProjection()

    uploader_user_id = UnicodeAttribute(hash_key=True, attr_name="uploaderUserId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class VideoAttribute(MapAttribute):
    duration_sec = NumberAttribute(attr_name="durationSec")
    width_px = NumberAttribute(attr_name="widthPx")
    height_px = NumberAttribute(attr_name="heightPx")
    fps = NumberAttribute(null=True)
    codec = UnicodeAttribute()
    rotation_deg = NumberAttribute(attr_name="rotationDeg")
    mean_luminance = NumberAttribute(attr_name="meanLuminance")
    size_bytes = NumberAttribute(attr_name="sizeBytes")


class DeclaredAttribute(MapAttribute):
    duration_sec = NumberAttribute(attr_name="durationSec", null=True)
    width_px = NumberAttribute(attr_name="widthPx", null=True)
    height_px = NumberAttribute(attr_name="heightPx", null=True)
    size_bytes = NumberAttribute(attr_name="sizeBytes", null=True)


class VisualItem(Model):
    class Meta:
        table_name = "Visuals"

    id = UnicodeAttribute(hash_key=True)
    track_id = UnicodeAttribute(attr_name="trackId")
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    failure_reason = UnicodeAttribute(attr_name="failureReason", null=True)
    failure_message = UnicodeAttribute(attr_name="failureMessage", null=True)
    uploader_user_id = UnicodeAttribute(attr_name="uploaderUserId", null=True)
    submission_id = UnicodeAttribute(attr_name="submissionId", null=True)
    source_model = UnicodeAttribute(attr_name="sourceModel", null=True)
    source_prompt_hash = UnicodeAttribute(attr_name="sourcePromptHash", null=True)
    source_prompt_text = UnicodeAttribute(attr_name="sourcePromptText", null=True)
    source_key = UnicodeAttribute(attr_name="sourceKey")
    content_type = UnicodeAttribute(attr_name="contentType")
    poster_key = UnicodeAttribute(attr_name="posterKey", null=True)
    media = VideoAttribute(null=True)
    declared = DeclaredAttribute(null=True)
    is_active = BooleanAttribute(attr_name="isActive", default=False)
    impressions = NumberAttribute(default=0)
    pairings = NumberAttribute(default=0)
    exports = NumberAttribute(default=0)
    shares = NumberAttribute(default=0)
    list_key = UnicodeAttribute(attr_name="listKey")
    ready_track_id = UnicodeAttribute(attr_name="readyTrackId", null=True)
    archived_from = UnicodeAttribute(attr_name="archivedFrom", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    by_track = VisualsByTrack()
    ready_by_track = ReadyVisualsByTrack()
    by_uploader = VisualsByUploader()


class PlanAttribute(MapAttribute):
    renderer_version = UnicodeAttribute(attr_name="rendererVersion")
    track_id = UnicodeAttribute(attr_name="trackId")
    audio_key = UnicodeAttribute(attr_name="audioKey")
    hook_start_sec = NumberAttribute(attr_name="hookStartSec")
    hook_duration_sec = NumberAttribute(attr_name="hookDurationSec")
    visual_id = UnicodeAttribute(attr_name="visualId", null=True)
    visual_key = UnicodeAttribute(attr_name="visualKey", null=True)
    visual_mean_luminance = NumberAttribute(attr_name="visualMeanLuminance", null=True)
    cover_key = UnicodeAttribute(attr_name="coverKey", null=True)
    avatar_key = UnicodeAttribute(attr_name="avatarKey", null=True)
    title = UnicodeAttribute()
    artist = UnicodeAttribute()
    share_url = UnicodeAttribute(attr_name="shareUrl", null=True)
    attribution_handle = UnicodeAttribute(attr_name="attributionHandle", null=True)
    preset = UnicodeAttribute()


class OutputAttribute(MapAttribute):
    size_bytes = NumberAttribute(attr_name="sizeBytes")
    duration_sec = NumberAttribute(attr_name="durationSec")
    width = NumberAttribute()
    height = NumberAttribute()
    fps = NumberAttribute()
    video_bitrate = NumberAttribute(attr_name="videoBitrate")
    audio_bitrate = NumberAttribute(attr_name="audioBitrate")


class ExportItem(Model):
    """An export job, keyed by the hash of its render plan (content-addressed)."""

    class Meta:
        table_name = "Exports"

    id = UnicodeAttribute(hash_key=True)
    plan = PlanAttribute()
    status = UnicodeAttribute()
    progress = NumberAttribute(default=0)
    eta_sec = NumberAttribute(attr_name="etaSec", null=True)
    warnings = ListAttribute(of=UnicodeAttribute, default=list)
    failure_reason = UnicodeAttribute(attr_name="failureReason", null=True)
    failure_message = UnicodeAttribute(attr_name="failureMessage", null=True)
    output_key = UnicodeAttribute(attr_name="outputKey", null=True)
    output = OutputAttribute(null=True)
    requested_by = UnicodeAttribute(attr_name="requestedBy", null=True)
    attempts = NumberAttribute(default=0)
    started_at = UTCDateTimeAttribute(attr_name="startedAt", null=True)
    finished_at = UTCDateTimeAttribute(attr_name="finishedAt", null=True)
    render_sec = NumberAttribute(attr_name="renderSec", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")


class RateLimitItem(Model):
    """A fixed-window counter per caller and window; TTL deletes spent windows."""

    class Meta:
        table_name = "RateLimits"

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute(attr_name="expiresAt")


# Which setting names each item's table (the setting's env var is set from template.yaml).
TABLE_SETTINGS: dict[type[Model], str] = {
    UserItem: "users_table",
    HandleItem: "handles_table",
    TrackItem: "tracks_table",
    VisualItem: "visuals_table",
    RateLimitItem: "rate_limits_table",
    ExportItem: "exports_table",
}
ALL_ITEMS = tuple(TABLE_SETTINGS)


def bind_tables(settings: Settings) -> None:
    """Point each item class at its table. Idempotent and cheap, so every entry point may call it."""
    for item, setting in TABLE_SETTINGS.items():
        name = getattr(settings, setting)
        if item.Meta.table_name != name:
            item.Meta.table_name = name
            item._connection = None  # PynamoDB caches the connection with the table name
