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


class Money(Entity):
    """An amount in the currency's minor units (cents; yen for zero-decimal JPY), never a float."""

    amount: int
    currency: str  # ISO 4217, upper case


class User(Entity):
    id: str
    handle: str
    display_name: str
    bio: str | None = None
    avatar_key: str | None = None
    is_artist: bool = False
    stripe_account_id: str | None = None
    stripe_onboarding_complete: bool = False
    collect_price: Money | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def accepts_collects(self) -> bool:
        """The Collect button shows only when money can really move."""
        return self.is_artist and self.stripe_onboarding_complete and self.collect_price is not None


class AudioInfo(Entity):
    duration_sec: float
    sample_rate: int
    channels: int
    codec: str
    size_bytes: int


class TrackReward(Entity):
    """A per-hook bounty the artist offers, drafted with active=False and switched on later."""

    amount: int
    currency: str
    description: str
    active: bool


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
    reward: TrackReward | None = None
    preview_key: str | None = None  # the hook-only clip non-entitled listeners get
    preview_source: str | None = None  # what the clip was cut from (see rules.preview_source)
    # A cut that failed for good (the audio cannot be decoded at the hook), and what it was cut from: it is
    # tried again only for another source (new audio or a new hook).
    preview_failure_reason: str | None = None
    preview_failed_source: str | None = None
    tags: list[str] = []  # genre and mood slugs that suggestions match visuals against
    upload_deadline: datetime | None = None  # audio PROCESSING: when an upload not arrived is given up
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
    tags: list[str] = []  # allowlisted slugs (casset.tags)
    bpm_min: int | None = None
    bpm_max: int | None = None
    position: str | None = None  # the artist's order (casset.positions); None: stored before V2, by id
    reused_from: str | None = None  # the visual whose media this one shares, when picked from the library
    upload_deadline: datetime | None = None  # PROCESSING: when an upload that has not arrived is given up
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


class HookShare(Entity):
    """A shared hook behind /s/{id}: the track, where the hook starts and the visual the sharer chose."""

    id: str
    track_id: str
    hook_start_sec: float
    visual_id: str | None = None  # None: whatever the track's active visual is when opened
    sharer_user_id: str
    referral_code: str | None = None  # the sharer's referral link for the track's artist
    created_at: datetime


class PurchaseState(StrEnum):
    PENDING = "PENDING"  # a refund or dispute arrived before the payment itself
    GRANTED = "GRANTED"
    REFUNDED = "REFUNDED"
    DISPUTED = "DISPUTED"


class PayoutState(StrEnum):
    PENDING = "PENDING"  # the artist's share is on its way to their Stripe balance
    FROZEN = "FROZEN"  # disputed: held
    CANCELLED = "CANCELLED"  # fully refunded before it was paid out
    SETTLED = "SETTLED"  # a payout.paid listed it


class RewardState(StrEnum):
    PENDING = "PENDING"
    FROZEN = "FROZEN"
    CANCELLED = "CANCELLED"


class PaymentFacts(Entity):
    """What Stripe told us about one PaymentIntent, accumulated from its events in any order.

    Every field only ever grows (set once, or a larger amount refunded), so the facts after a set of events
    do not depend on the order they were delivered in; everything else about a purchase is derived."""

    payment_intent_id: str
    succeeded: bool = False
    buyer_id: str | None = None
    buyer_handle: str | None = None
    artist_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    application_fee: int | None = None
    charge_id: str | None = None
    succeeded_at: datetime | None = None
    referral_code: str | None = None
    referrer_id: str | None = None
    referral_clicked_at: datetime | None = None
    amount_refunded: int = 0
    disputed: bool = False
    dispute_id: str | None = None
    disputed_at: datetime | None = None
    dispute_status: str | None = None  # stored before dispute_history: how the dispute closed, set once
    dispute_history: dict[str, datetime] = {}  # every dispute status seen -> when first seen (event time)
    # Every (event time, status) the dispute was seen in, repeats included: the latest decides the state.
    dispute_observations: tuple[tuple[datetime, str], ...] = ()
    referral_dropped: str | None = None  # why the checkout's referral metadata was not taken
    paid_out_by: str | None = None  # the Stripe payout that carried the artist's share


class Purchase(Entity):
    facts: PaymentFacts
    state: PurchaseState
    payout_state: PayoutState | None = None
    reward_state: RewardState | None = None
    applied_effects: frozenset[str] = frozenset()
    version: int = 0
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> str:
        return self.facts.payment_intent_id


class LedgerEntry(Entity):
    """One line of the append-only CreditLedger. Corrections are new lines that reverse old ones."""

    id: str  # deterministic: "{paymentIntentId}:{kind}", so an effect is written once
    account_id: str  # the user whose balance the line moves
    kind: str
    amount: int  # signed, minor units
    currency: str
    purchase_id: str
    reverses: str | None = None
    created_at: datetime


class Notification(Entity):
    user_id: str
    id: str  # sortable and deterministic: "{time}#{kind}#{source}"
    kind: str
    message: str
    purchase_id: str | None = None
    read: bool = False
    created_at: datetime


class ActivityEvent(Entity):
    artist_id: str
    id: str  # sortable and deterministic like Notification.id
    kind: str
    message: str
    actor_id: str | None = None
    actor_handle: str | None = None
    purchase_id: str | None = None
    created_at: datetime


class ReferralLink(Entity):
    code: str
    referrer_id: str
    artist_id: str
    artist_handle: str
    created_at: datetime


class ReferralClick(Entity):
    id: str  # the cookie's value
    code: str
    clicked_at: datetime


class ReferralAttribution(Entity):
    purchase_id: str
    referrer_id: str
    artist_id: str
    buyer_id: str
    code: str
    clicked_at: datetime
    credit: Money
    reward_state: RewardState
    created_at: datetime


class WebhookEventStatus(StrEnum):
    PROCESSING = "PROCESSING"
    PROCESSED = "PROCESSED"
    FAILED = "FAILED"
    IGNORED = "IGNORED"
    REJECTED = "REJECTED"  # signed, but not the shape we read: answered 400, never processed (terminal)
