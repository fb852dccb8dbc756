"""Request and response models of the HTTP API (camelCase on the wire), and the explicit mapping from
domain entities. Nothing from the data layer reaches a response except through these."""

from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    Strict,
    StringConstraints,
    UrlConstraints,
)
from pydantic.alias_generators import to_camel

from casset.data import storage
from casset.entities import (
    ActivityEvent,
    ExportJob,
    ExportStatus,
    LedgerEntry,
    MediaStatus,
    Metrics,
    Money,
    Notification,
    ReferralAttribution,
    ReferralLink,
    RewardState,
    Track,
    TrackReward,
    User,
    Visual,
    VisualKind,
)
from casset.error_codes import ERROR_CODES
from casset.flags import Feature
from casset.inputs import MAX_SAFE_INTEGER, check_display_text, quantise_seconds
from casset.metric_rules import VisualEventType
from casset.rules import HOOK_MAX_SEC, HOOK_MIN_SEC, MAX_PRICE_MINOR
from casset.tags import ALLOWLIST, BPM_MAX, BPM_MIN, TRACK_CATEGORIES, TagCategory

# Text someone else sees (in a rendered video, a page, a notification): no control characters, no
# bidirectional overrides, something visible (casset.inputs.check_display_text). Every such field is
# Annotated[str, StringConstraints(its strip and lengths), DisplayText] (DisplayParagraph where line
# breaks belong); the lengths come first so their errors keep pydantic's string_too_long type.
DisplayText = AfterValidator(check_display_text)
DisplayParagraph = AfterValidator(partial(check_display_text, multiline=True))
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), DisplayText]
DisplayName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), DisplayText
]
Bio = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), DisplayParagraph]
ContentType = Annotated[str, StringConstraints(min_length=3, max_length=100)]
UploadKey = Annotated[str, StringConstraints(min_length=1, max_length=512)]
# Numbers are numbers ("500" and true are refused: strict), bounded per field, and stored as they mean:
# seconds to the millisecond (quantised before the bounds are checked), money in integer minor units.
Seconds = Annotated[float, Strict(), Field(allow_inf_nan=False), AfterValidator(quantise_seconds)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_SAFE_INTEGER)]
Cents = Annotated[int, Strict(), Field(description="Integer minor units (cents)")]
HookStart = Annotated[Seconds, Field(ge=0, le=36_000)]
HookDuration = Annotated[Seconds, Field(ge=HOOK_MIN_SEC, le=HOOK_MAX_SEC)]
MinorUnits = Annotated[Cents, Field(ge=1, le=MAX_PRICE_MINOR)]
# pydantic matches patterns with Rust's regex engine, where `$` is the end of the text (no newline before it).
Currency = Annotated[
    str, StringConstraints(min_length=3, max_length=3, pattern="^[A-Za-z]{3}$"), Field(description="ISO 4217")
]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=31)]
TagText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
TagTexts = Annotated[
    list[TagText],
    Field(max_length=24, description="Free text, normalised to the allowlist (GET /api/tags) or refused"),
]
Bpm = Annotated[int, Strict(), Field(ge=BPM_MIN, le=BPM_MAX)]
Flag = Annotated[bool, Strict()]
VisualId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class RequestModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", str_max_length=4096)


class ResponseModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


# Requests


class UploadRequest(RequestModel):
    content_type: ContentType
    size_bytes: Annotated[Count, Field(ge=1)] | None = None


class CreateProfileRequest(RequestModel):
    handle: Annotated[str, StringConstraints(min_length=1, max_length=31)]
    display_name: DisplayName
    bio: Bio | None = None
    is_artist: Flag = False


class UpdateProfileRequest(RequestModel):
    display_name: DisplayName | None = None
    bio: Bio | None = None
    is_artist: Flag | None = None
    avatar_upload_key: UploadKey | None = None


class CreateTrackRequest(RequestModel):
    title: Title
    preview_start_sec: HookStart = 0.0
    hook_duration_sec: HookDuration | None = None
    audio_content_type: ContentType | None = None
    audio_upload_key: UploadKey | None = None
    cover_upload_key: UploadKey | None = None
    tags: TagTexts | None = Field(None, description="Genre and mood tags; suggestions match visuals on them")


class UpdateTrackRequest(RequestModel):
    title: Title | None = None
    preview_start_sec: HookStart | None = None
    hook_duration_sec: HookDuration | None = None
    cover_upload_key: UploadKey | None = None
    tags: TagTexts | None = Field(None, description="Replaces the track's genre and mood tags ([] clears)")


class ReplaceAudioRequest(RequestModel):
    audio_content_type: ContentType | None = None
    audio_upload_key: UploadKey | None = None


class CreateVisualRequest(RequestModel):
    """Exactly one source: contentType (answered with an upload target), uploadKey (an earlier
    /api/upload/media upload), or reuseVisualId (one of the caller's earlier visuals, see
    GET /api/studio/visuals: its media is shared, not copied, and the new visual is READY at once).
    durationSec, widthPx, heightPx and sizeBytes are hints; the probe measures the truth."""

    kind: Literal[VisualKind.ARTIST] = VisualKind.ARTIST
    content_type: ContentType | None = None
    upload_key: UploadKey | None = None
    reuse_visual_id: VisualId | None = None
    tags: TagTexts | None = None
    bpm_min: Bpm | None = None
    bpm_max: Bpm | None = None
    duration_sec: Annotated[Seconds, Field(gt=0, le=3600)] | None = None
    width_px: Annotated[Count, Field(gt=0, le=100_000)] | None = None
    height_px: Annotated[Count, Field(gt=0, le=100_000)] | None = None
    size_bytes: Annotated[Count, Field(ge=1)] | None = None


class SetActiveRequest(RequestModel):
    active: Flag


class DescribeVisualRequest(RequestModel):
    """Replaces what is given: tags ([] clears), bpmMin/bpmMax (null clears)."""

    tags: TagTexts | None = None
    bpm_min: Bpm | None = None
    bpm_max: Bpm | None = None


class MoveVisualRequest(RequestModel):
    after_visual_id: VisualId | None = Field(
        description="Place the visual right after this one of the same track; null puts it first."
    )


class ExportRequest(RequestModel):
    track_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="Required without shareId; with it, optional and must be the shared track."
    )
    hook_start_sec: HookStart | None = Field(
        None, description="Defaults to the share's hook start, else the track's previewStartSec."
    )
    hook_duration_sec: HookDuration | None = Field(
        None, description="Defaults to the track's hookDurationSec."
    )
    visual_asset_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None,
        description="Or ?v=. Defaults to the share's visual (the active one if it was archived since, with "
        "a warning on the job), else the track's active visual; with none, the static cover.",
    )
    share_id: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        None, description="Export a share (/s/{shareId}): its track, hook start and visual."
    )
    share_url: (
        Annotated[HttpUrl, UrlConstraints(max_length=200, allowed_schemes=["https", "http"])] | None
    ) = None
    preset: Literal["high", "standard", "low"] = "standard"


class CollectPriceRequest(RequestModel):
    amount: MinorUnits
    currency: Currency = "USD"


class CheckoutRequest(RequestModel):
    artist_slug: Slug
    referral_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = Field(
        None, description="From a referral link; without it the `ref` cookie set by /r/{code} is used."
    )


class TrackRewardRequest(RequestModel):
    reward_amount: MinorUnits
    reward_currency: Currency = "USD"
    reward_description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=280), DisplayParagraph
    ]
    reward_active: Flag = False


class MarkReadRequest(RequestModel):
    ids: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=200)]],
        Field(min_length=1, max_length=100),
    ]


class VisualEventRequest(RequestModel):
    type: VisualEventType = Field(description="What happened: impression, pairing, export or share")


class CreateShareRequest(RequestModel):
    track_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    hook_start_sec: HookStart | None = Field(None, description="Defaults to the track's previewStartSec.")
    visual_asset_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="A READY visual of the track; without it the share shows the active visual."
    )


# Responses


class MoneyOut(ResponseModel):
    amount: int = Field(description="Integer minor units")
    currency: str = Field(description="ISO 4217")

    @classmethod
    def of(cls, money: Money) -> "MoneyOut":
        return cls(amount=money.amount, currency=money.currency)


class UploadOut(ResponseModel):
    method: Literal["POST"] = "POST"
    url: str
    fields: dict[str, str]
    key: str
    content_type: str
    max_bytes: int
    expires_at: datetime

    @classmethod
    def of(cls, target: storage.UploadTarget) -> "UploadOut":
        return cls(
            url=target.url,
            fields=target.fields,
            key=target.key,
            content_type=target.content_type,
            max_bytes=target.max_bytes,
            expires_at=target.expires_at,
        )


class PublicUserOut(ResponseModel):
    id: str
    handle: str
    display_name: str
    bio: str | None
    avatar_url: str | None
    is_artist: bool

    @classmethod
    def of(cls, user: User) -> "PublicUserOut":
        return cls(
            id=user.id,
            handle=user.handle,
            display_name=user.display_name,
            bio=user.bio,
            avatar_url=_url(user.avatar_key),
            is_artist=user.is_artist,
        )


class CollectOfferOut(ResponseModel):
    """What a Profile World needs to show (or hide) Collect."""

    artist_id: str
    handle: str
    accepts_collects: bool = Field(description="Stripe onboarding complete and a price set")
    price: MoneyOut | None

    @classmethod
    def of(cls, artist: User) -> "CollectOfferOut":
        return cls(
            artist_id=artist.id,
            handle=artist.handle,
            accepts_collects=artist.accepts_collects,
            price=MoneyOut.of(artist.collect_price) if artist.collect_price else None,
        )


class UserOut(PublicUserOut):
    stripe_onboarding_complete: bool
    collect_price: MoneyOut | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(
            **PublicUserOut.of(user).model_dump(),
            stripe_onboarding_complete=user.stripe_onboarding_complete,
            collect_price=MoneyOut.of(user.collect_price) if user.collect_price else None,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class AudioOut(ResponseModel):
    status: MediaStatus
    failure_reason: str | None = None
    duration_sec: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    codec: str | None = None


class TrackRewardOut(ResponseModel):
    reward_amount: int
    reward_currency: str
    reward_description: str
    reward_active: bool

    @classmethod
    def of(cls, reward: TrackReward) -> "TrackRewardOut":
        return cls(
            reward_amount=reward.amount,
            reward_currency=reward.currency,
            reward_description=reward.description,
            reward_active=reward.active,
        )


class TrackOut(ResponseModel):
    id: str
    artist_id: str
    title: str
    audio: AudioOut
    cover_url: str | None
    preview_start_sec: float
    hook_duration_sec: float
    active_visual_id: str | None
    reward: TrackRewardOut | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, track: Track) -> "TrackOut":
        info = track.audio
        return cls(
            id=track.id,
            artist_id=track.artist_id,
            title=track.title,
            audio=AudioOut(
                status=track.audio_status,
                failure_reason=track.audio_failure_reason,
                duration_sec=info.duration_sec if info else None,
                sample_rate=info.sample_rate if info else None,
                channels=info.channels if info else None,
                codec=info.codec if info else None,
            ),
            cover_url=_url(track.cover_key),
            preview_start_sec=track.preview_start_sec,
            hook_duration_sec=track.hook_duration_sec,
            active_visual_id=track.active_visual_id,
            reward=TrackRewardOut.of(track.reward) if track.reward else None,
            tags=track.tags,
            created_at=track.created_at,
            updated_at=track.updated_at,
        )


class TrackWithUploadOut(ResponseModel):
    track: TrackOut
    audio_upload: UploadOut | None


class TrackListOut(ResponseModel):
    items: list[TrackOut]


class MetricsOut(ResponseModel):
    impressions: int
    pairings: int
    exports: int
    shares: int

    @classmethod
    def of(cls, metrics: Metrics) -> "MetricsOut":
        return cls(**metrics.model_dump())


class VisualOut(ResponseModel):
    id: str
    track_id: str
    kind: VisualKind
    status: MediaStatus
    failure_reason: str | None
    failure_message: str | None
    uploader_user_id: str | None
    video_url: str | None = Field(description="Signed, short-lived; present once the visual is READY.")
    poster_url: str | None
    duration_sec: float | None
    width_px: int | None
    height_px: int | None
    fps: float | None
    codec: str | None
    mean_luminance: float | None
    is_active: bool
    metrics: MetricsOut
    tags: list[str]
    bpm_min: int | None
    bpm_max: int | None
    reused_from: str | None = Field(description="The earlier visual whose media this one shares")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, visual: Visual) -> "VisualOut":
        media = visual.media
        playable = visual.status in {MediaStatus.READY, MediaStatus.ARCHIVED} and media is not None
        return cls(
            id=visual.id,
            track_id=visual.track_id,
            kind=visual.kind,
            status=visual.status,
            failure_reason=visual.failure_reason,
            failure_message=visual.failure_message,
            uploader_user_id=visual.uploader_user_id,
            video_url=_url(visual.source_key) if playable else None,
            poster_url=_url(visual.poster_key),
            duration_sec=media.duration_sec if media else None,
            width_px=media.width_px if media else None,
            height_px=media.height_px if media else None,
            fps=media.fps if media else None,
            codec=media.codec if media else None,
            mean_luminance=media.mean_luminance if media else None,
            is_active=visual.is_active,
            metrics=MetricsOut.of(visual.metrics),
            tags=visual.tags,
            bpm_min=visual.bpm_min,
            bpm_max=visual.bpm_max,
            reused_from=visual.reused_from,
            created_at=visual.created_at,
            updated_at=visual.updated_at,
        )


class VisualWithUploadOut(ResponseModel):
    visual: VisualOut
    upload: UploadOut | None


class VisualPageOut(ResponseModel):
    items: list[VisualOut]
    next_cursor: str | None


class SuggestionOut(ResponseModel):
    visual: VisualOut
    on_track: bool = Field(description="Already in this track's library; otherwise add it with reuseVisualId")
    matched_tags: list[str]
    reason: str = Field(examples=["matched on: dark, film · 84 pairings"])


class SuggestionListOut(ResponseModel):
    items: list[SuggestionOut]


class TagOut(ResponseModel):
    slug: str
    label: str
    category: TagCategory


class TagListOut(ResponseModel):
    items: list[TagOut]
    track_categories: list[TagCategory] = Field(description="The categories a track's own tags may use")

    @classmethod
    def allowlist(cls) -> "TagListOut":
        return cls(
            items=[TagOut(slug=tag.slug, label=tag.label, category=tag.category) for tag in ALLOWLIST],
            track_categories=[category for category in TagCategory if category in TRACK_CATEGORIES],
        )


class ExportOutputOut(ResponseModel):
    size_bytes: int
    duration_sec: float
    width: int
    height: int
    fps: int
    video_bitrate: int
    audio_bitrate: int


class ExportOut(ResponseModel):
    id: str
    status: ExportStatus
    progress: int = Field(description="Percent, in steps of 10 while rendering")
    eta_sec: float | None
    warnings: list[str]
    failure_reason: str | None
    failure_message: str | None
    track_id: str
    visual_asset_id: str | None
    hook_start_sec: float
    hook_duration_sec: float
    preset: str
    download_url: str | None = Field(description="Signed, short-lived; present once DONE.")
    download_url_expires_at: datetime | None
    output: ExportOutputOut | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    render_sec: float | None

    @classmethod
    def of(cls, job: ExportJob) -> "ExportOut":
        url, expires = (
            storage.presigned_download_with_expiry(job.output_key, f"casset-hook-{job.id[:8]}.mp4")
            if job.status is ExportStatus.DONE and job.output_key
            else (None, None)
        )
        return cls(
            id=job.id,
            status=job.status,
            progress=job.progress,
            eta_sec=job.eta_sec,
            warnings=job.warnings,
            failure_reason=job.failure_reason,
            failure_message=job.failure_message,
            track_id=job.plan.track_id,
            visual_asset_id=job.plan.visual_id,
            hook_start_sec=job.plan.hook_start_sec,
            hook_duration_sec=job.plan.hook_duration_sec,
            preset=job.plan.preset,
            download_url=url,
            download_url_expires_at=expires,
            output=ExportOutputOut(**job.output.model_dump()) if job.output else None,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            render_sec=job.render_sec,
        )


class StripeConnectOut(ResponseModel):
    account_id: str
    onboarding_url: str = Field(description="Stripe-hosted onboarding; single use, expires soon")
    expires_at: datetime
    onboarding_complete: bool


class CheckoutOut(ResponseModel):
    payment_intent_id: str
    client_secret: str = Field(description="For Stripe.js (Payment Request button / card element)")
    publishable_key: str
    amount: int
    currency: str
    application_fee_amount: int
    artist_id: str
    referral_code: str | None


class EntitlementOut(ResponseModel):
    artist_id: str
    entitled: bool
    reason: Literal["ARTIST", "PURCHASE", "NONE"]
    purchase_id: str | None


class AudioAccessOut(ResponseModel):
    track_id: str
    access: Literal["FULL", "PREVIEW"] = Field(description="PREVIEW is only the hook clip")
    url: str = Field(description="Signed, short-lived")
    expires_at: datetime
    start_sec: float = Field(description="Where in the track the audio starts")
    duration_sec: float | None


class ShareOut(ResponseModel):
    id: str
    url: str = Field(description="The short link, /s/{id}")
    track_id: str
    hook_start_sec: float
    visual_asset_id: str | None = Field(description="The visual the sharer chose, if any")
    created_at: datetime


class ShareFallbackOut(ResponseModel):
    code: str = Field(description="VISUAL_UNAVAILABLE: the shared visual was archived or removed")
    message: str


class ResolvedShareOut(ResponseModel):
    id: str
    url: str = Field(description="The short link, /s/{id}")
    preview_url: str = Field(description="Where /s/{id} redirects: the preview page with t, v, s")
    track_id: str
    hook_start_sec: float
    hook_duration_sec: float
    requested_visual_id: str | None = Field(description="The visual the sharer chose, if any")
    visual_asset_id: str | None = Field(description="The visual to show now (None: the static cover)")
    fallback: ShareFallbackOut | None = Field(description="Why the visual shown is not the shared one")
    created_at: datetime


class ReferralLinkOut(ResponseModel):
    code: str
    url: str
    artist_id: str
    artist_handle: str
    created_at: datetime

    @classmethod
    def of(cls, link: ReferralLink, url: str) -> "ReferralLinkOut":
        return cls(
            code=link.code,
            url=url,
            artist_id=link.artist_id,
            artist_handle=link.artist_handle,
            created_at=link.created_at,
        )


class LedgerEntryOut(ResponseModel):
    id: str
    kind: str
    amount: int
    currency: str
    purchase_id: str
    reverses: str | None
    created_at: datetime

    @classmethod
    def of(cls, entry: LedgerEntry) -> "LedgerEntryOut":
        return cls(
            id=entry.id,
            kind=entry.kind,
            amount=entry.amount,
            currency=entry.currency,
            purchase_id=entry.purchase_id,
            reverses=entry.reverses,
            created_at=entry.created_at,
        )


class AttributionOut(ResponseModel):
    purchase_id: str
    artist_id: str
    code: str
    credit: MoneyOut
    reward_state: RewardState
    clicked_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, attribution: ReferralAttribution) -> "AttributionOut":
        return cls(
            purchase_id=attribution.purchase_id,
            artist_id=attribution.artist_id,
            code=attribution.code,
            credit=MoneyOut.of(attribution.credit),
            reward_state=attribution.reward_state,
            clicked_at=attribution.clicked_at,
            created_at=attribution.created_at,
        )


class ReferralSummaryOut(ResponseModel):
    balances: list[MoneyOut] = Field(description="Credited balance per currency: credits less reversals")
    pending: list[MoneyOut]
    frozen: list[MoneyOut] = Field(description="Credits of disputed purchases, on hold")
    entries: list[LedgerEntryOut]
    attributions: list[AttributionOut]


class NotificationOut(ResponseModel):
    id: str
    kind: str
    message: str
    purchase_id: str | None
    read: bool
    created_at: datetime

    @classmethod
    def of(cls, notification: Notification) -> "NotificationOut":
        return cls(
            id=notification.id,
            kind=notification.kind,
            message=notification.message,
            purchase_id=notification.purchase_id,
            read=notification.read,
            created_at=notification.created_at,
        )


class NotificationPageOut(ResponseModel):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class MarkReadOut(ResponseModel):
    marked: int


class ActivityOut(ResponseModel):
    id: str
    kind: str
    message: str
    actor_id: str | None
    actor_handle: str | None
    created_at: datetime

    @classmethod
    def of(cls, event: ActivityEvent) -> "ActivityOut":
        return cls(
            id=event.id,
            kind=event.kind,
            message=event.message,
            actor_id=event.actor_id,
            actor_handle=event.actor_handle,
            created_at=event.created_at,
        )


class ActivityPageOut(ResponseModel):
    items: list[ActivityOut]
    next_cursor: str | None


class VisualEventOut(ResponseModel):
    event_id: str = Field(description="Server-assigned; analytics carries it as eventId")
    counted: bool = Field(
        description="False for an impression the same viewer already made within the window: accepted, "
        "forwarded to analytics, not added to the counter"
    )


class FeaturesOut(ResponseModel):
    artist_id: str | None = Field(description="The artist the flags were evaluated for, if any")
    features: dict[Feature, bool] = Field(
        description="Every feature flag, on or off for this artist and caller (names as in FEATURE_DISABLED)"
    )


# Documented, not validated: an unknown code in an answer must never turn an error into a 500.
_ERROR_CODE_SCHEMA: dict[str, Any] = {
    "enum": sorted(ERROR_CODES),
    "x-error-codes": {
        code: {"status": int(status), "meaning": meaning}
        for code, (status, meaning) in sorted(ERROR_CODES.items())
    },
}


class ErrorOut(ResponseModel):
    code: str = Field(
        description="Stable, machine-readable; x-error-codes gives each code's HTTP status and meaning.",
        json_schema_extra=_ERROR_CODE_SCHEMA,
    )
    message: str
    details: list[dict] = []


def _url(key: str | None) -> str | None:
    return storage.presigned_download(key) if key else None
