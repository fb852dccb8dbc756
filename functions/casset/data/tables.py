"""PynamoDB items, one class per DynamoDB table declared in template.yaml (a test keeps the two in step)."""

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from casset.settings import Settings


class UsersByStripeAccount(GlobalSecondaryIndex["UserItem"]):
    """Sparse: only artists who connected Stripe; account.updated finds its user here."""

    class Meta:
        index_name = "byStripeAccount"
        projection = KeysOnlyProjection()

    stripe_account_id = UnicodeAttribute(hash_key=True, attr_name="stripeAccountId")


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
    # The Stripe `created` time of the account.updated event last applied: older ones arriving late lose.
    stripe_account_synced_at = UTCDateTimeAttribute(attr_name="stripeAccountSyncedAt", null=True)
    collect_price_amount = NumberAttribute(attr_name="collectPriceAmount", null=True)
    collect_price_currency = UnicodeAttribute(attr_name="collectPriceCurrency", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    by_stripe_account = UsersByStripeAccount()


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


class TracksAwaitingUpload(GlobalSecondaryIndex["TrackItem"]):
    """Sparse: tracks whose audio is PROCESSING, by the day and the moment its upload is overdue; the
    expiry sweep queries the days up to now (casset.services.stalled_media)."""

    class Meta:
        index_name = "byUploadDeadline"
        projection = KeysOnlyProjection()

    upload_deadline_day = UnicodeAttribute(hash_key=True, attr_name="uploadDeadlineDay")
    upload_deadline = UTCDateTimeAttribute(range_key=True, attr_name="uploadDeadline")


class AudioAttribute(MapAttribute):
    duration_sec = NumberAttribute(attr_name="durationSec")
    sample_rate = NumberAttribute(attr_name="sampleRate")
    channels = NumberAttribute()
    codec = UnicodeAttribute()
    size_bytes = NumberAttribute(attr_name="sizeBytes")


class RewardAttribute(MapAttribute):
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    description = UnicodeAttribute()
    active = BooleanAttribute()


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
    reward = RewardAttribute(null=True)
    preview_key = UnicodeAttribute(attr_name="previewKey", null=True)
    preview_source = UnicodeAttribute(attr_name="previewSource", null=True)
    preview_failure_reason = UnicodeAttribute(attr_name="previewFailureReason", null=True)
    preview_failed_source = UnicodeAttribute(attr_name="previewFailedSource", null=True)
    tags = UnicodeSetAttribute(null=True)
    upload_deadline_day = UnicodeAttribute(attr_name="uploadDeadlineDay", null=True)
    upload_deadline = UTCDateTimeAttribute(attr_name="uploadDeadline", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    by_artist = TracksByArtist()
    awaiting_upload = TracksAwaitingUpload()


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
    """The artist's earlier uploads, newest first: the library an artist picks a visual to reuse from.
    Keys only (as first deployed: CloudFormation cannot change an index's projection in place)."""

    class Meta:
        index_name = "byUploader"
        projection = KeysOnlyProjection()

    uploader_user_id = UnicodeAttribute(hash_key=True, attr_name="uploaderUserId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class VisualsBySource(GlobalSecondaryIndex["VisualItem"]):
    """Visuals sharing one media object (a reused upload): who still needs it before it goes cold."""

    class Meta:
        index_name = "bySource"
        projection = IncludeProjection(["trackId", "status"])

    source_key = UnicodeAttribute(hash_key=True, attr_name="sourceKey")


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


class VisualsAwaitingUpload(GlobalSecondaryIndex["VisualItem"]):
    """Sparse: PROCESSING visuals, by the day and the moment their upload is overdue (see Tracks')."""

    class Meta:
        index_name = "byUploadDeadline"
        projection = KeysOnlyProjection()

    upload_deadline_day = UnicodeAttribute(hash_key=True, attr_name="uploadDeadlineDay")
    upload_deadline = UTCDateTimeAttribute(range_key=True, attr_name="uploadDeadline")


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
    tags = UnicodeSetAttribute(null=True)
    bpm_min = NumberAttribute(attr_name="bpmMin", null=True)
    bpm_max = NumberAttribute(attr_name="bpmMax", null=True)
    position = UnicodeAttribute(null=True)  # absent on visuals stored before V2 (listKey was the id)
    reused_from = UnicodeAttribute(attr_name="reusedFrom", null=True)
    upload_deadline_day = UnicodeAttribute(attr_name="uploadDeadlineDay", null=True)
    upload_deadline = UTCDateTimeAttribute(attr_name="uploadDeadline", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")

    awaiting_upload = VisualsAwaitingUpload()
    by_track = VisualsByTrack()
    ready_by_track = ReadyVisualsByTrack()
    by_uploader = VisualsByUploader()
    by_source = VisualsBySource()


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


class ExportsInFlight(GlobalSecondaryIndex["ExportItem"]):
    """Sparse: only QUEUED and RENDERING jobs carry `inFlight`, so counting the index counts the renders
    the platform is paying for now, without reading anything else."""

    class Meta:
        index_name = "inFlight"
        projection = KeysOnlyProjection()

    in_flight = UnicodeAttribute(hash_key=True, attr_name="inFlight")
    in_flight_since = UTCDateTimeAttribute(range_key=True, attr_name="inFlightSince")


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
    in_flight = UnicodeAttribute(attr_name="inFlight", null=True)
    in_flight_since = UTCDateTimeAttribute(attr_name="inFlightSince", null=True)

    in_flight_index = ExportsInFlight()


class RateLimitItem(Model):
    """One window's counter of a sliding-window budget (casset.data.rate_limits); TTL deletes spent ones."""

    class Meta:
        table_name = "RateLimits"

    key = UnicodeAttribute(hash_key=True)
    hits = NumberAttribute(default=0)
    expires_at = TTLAttribute(attr_name="expiresAt")


class PurchasesByBuyerArtist(GlobalSecondaryIndex["PurchaseItem"]):
    """Candidate purchases of one fan for one artist; entitlement re-reads each one consistently."""

    class Meta:
        index_name = "byBuyerArtist"
        projection = KeysOnlyProjection()

    buyer_artist = UnicodeAttribute(hash_key=True, attr_name="buyerArtist")


class PurchasesByCharge(GlobalSecondaryIndex["PurchaseItem"]):
    """The purchase of a charge: refunds and disputes whose payment_intent is null find it here."""

    class Meta:
        index_name = "byCharge"
        projection = KeysOnlyProjection()

    charge_id = UnicodeAttribute(hash_key=True, attr_name="chargeId")


class PurchaseItem(Model):
    """One PaymentIntent: the facts its Stripe events brought (any order) and what follows from them.

    Facts are written by commutative updates; the derived fields and effects are written together in one
    transaction conditioned on `version`, so concurrent deliveries apply each effect exactly once."""

    class Meta:
        table_name = "Purchases"

    id = UnicodeAttribute(hash_key=True)  # the PaymentIntent id
    succeeded = BooleanAttribute(null=True)
    buyer_id = UnicodeAttribute(attr_name="buyerId", null=True)
    buyer_handle = UnicodeAttribute(attr_name="buyerHandle", null=True)
    artist_id = UnicodeAttribute(attr_name="artistId", null=True)
    buyer_artist = UnicodeAttribute(attr_name="buyerArtist", null=True)
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    application_fee = NumberAttribute(attr_name="applicationFee", null=True)
    charge_id = UnicodeAttribute(attr_name="chargeId", null=True)
    succeeded_at = UTCDateTimeAttribute(attr_name="succeededAt", null=True)
    referral_code = UnicodeAttribute(attr_name="referralCode", null=True)
    referrer_id = UnicodeAttribute(attr_name="referrerId", null=True)
    referral_clicked_at = UTCDateTimeAttribute(attr_name="referralClickedAt", null=True)
    amount_refunded = NumberAttribute(attr_name="amountRefunded", null=True)
    disputed = BooleanAttribute(null=True)
    dispute_id = UnicodeAttribute(attr_name="disputeId", null=True)
    disputed_at = UTCDateTimeAttribute(attr_name="disputedAt", null=True)
    dispute_status = UnicodeAttribute(attr_name="disputeStatus", null=True)  # before disputeStatuses
    # Every dispute status seen, "{epoch:012d}#{status}": a set only grows, so any delivery order agrees.
    dispute_statuses = UnicodeSetAttribute(attr_name="disputeStatuses", null=True)
    referral_dropped = UnicodeAttribute(attr_name="referralDropped", null=True)
    paid_out_by = UnicodeAttribute(attr_name="paidOutBy", null=True)
    state = UnicodeAttribute(null=True)
    payout_state = UnicodeAttribute(attr_name="payoutState", null=True)
    reward_state = UnicodeAttribute(attr_name="rewardState", null=True)
    applied_effects = UnicodeSetAttribute(attr_name="appliedEffects", null=True)
    version = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt", null=True)
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt", null=True)

    by_buyer_artist = PurchasesByBuyerArtist()
    by_charge = PurchasesByCharge()


class LedgerByAccount(GlobalSecondaryIndex["LedgerEntryItem"]):
    class Meta:
        index_name = "byAccount"
        projection = AllProjection()

    account_id = UnicodeAttribute(hash_key=True, attr_name="accountId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class LedgerEntryItem(Model):
    """CreditLedger: append-only. Items are only ever put, each under a deterministic id, never updated."""

    class Meta:
        table_name = "CreditLedger"

    id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(attr_name="accountId")
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    purchase_id = UnicodeAttribute(attr_name="purchaseId")
    reverses = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")

    by_account = LedgerByAccount()


class ReferralLinkItem(Model):
    class Meta:
        table_name = "ReferralLinks"

    code = UnicodeAttribute(hash_key=True)
    referrer_id = UnicodeAttribute(attr_name="referrerId")
    artist_id = UnicodeAttribute(attr_name="artistId")
    artist_handle = UnicodeAttribute(attr_name="artistHandle")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")


class ReferralClickItem(Model):
    """One opened short link; its id is the attribution cookie. TTL drops it after the window."""

    class Meta:
        table_name = "ReferralClicks"

    id = UnicodeAttribute(hash_key=True)
    code = UnicodeAttribute()
    clicked_at = UTCDateTimeAttribute(attr_name="clickedAt")
    expires_at = TTLAttribute(attr_name="expiresAt")


class AttributionsByReferrer(GlobalSecondaryIndex["ReferralAttributionItem"]):
    class Meta:
        index_name = "byReferrer"
        projection = AllProjection()

    referrer_id = UnicodeAttribute(hash_key=True, attr_name="referrerId")
    created_at = UTCDateTimeAttribute(range_key=True, attr_name="createdAt")


class ReferralAttributionItem(Model):
    class Meta:
        table_name = "ReferralAttributions"

    purchase_id = UnicodeAttribute(hash_key=True, attr_name="purchaseId")
    referrer_id = UnicodeAttribute(attr_name="referrerId")
    artist_id = UnicodeAttribute(attr_name="artistId")
    buyer_id = UnicodeAttribute(attr_name="buyerId")
    code = UnicodeAttribute()
    clicked_at = UTCDateTimeAttribute(attr_name="clickedAt")
    credit_amount = NumberAttribute(attr_name="creditAmount")
    credit_currency = UnicodeAttribute(attr_name="creditCurrency")
    reward_state = UnicodeAttribute(attr_name="rewardState")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")

    by_referrer = AttributionsByReferrer()


class NotificationItem(Model):
    class Meta:
        table_name = "Notifications"

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    message = UnicodeAttribute()
    purchase_id = UnicodeAttribute(attr_name="purchaseId", null=True)
    read = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")


# Sorts after every notification id (they start with a timestamp).
UNREAD_COUNTER_ID = "~unread"


class NotificationCounterItem(Model):
    """A user's unread count, kept in their bell's partition under a sort key after every notification
    id, so reading the bell never counts the partition. Moved by the same
    transactions that add notifications and mark them read."""

    class Meta:
        table_name = "Notifications"

    user_id = UnicodeAttribute(hash_key=True, attr_name="userId")
    id = UnicodeAttribute(range_key=True, default=UNREAD_COUNTER_ID)
    unread = NumberAttribute(default=0)


class ActivityItem(Model):
    class Meta:
        table_name = "Activity"

    artist_id = UnicodeAttribute(hash_key=True, attr_name="artistId")
    id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    message = UnicodeAttribute()
    actor_id = UnicodeAttribute(attr_name="actorId", null=True)
    actor_handle = UnicodeAttribute(attr_name="actorHandle", null=True)
    purchase_id = UnicodeAttribute(attr_name="purchaseId", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")


class WebhookEventItem(Model):
    """Every Stripe event delivered to us, keyed by its id: the dedupe record and the delivery log."""

    class Meta:
        table_name = "WebhookEvents"

    id = UnicodeAttribute(hash_key=True)
    endpoint = UnicodeAttribute()
    type = UnicodeAttribute()
    livemode = BooleanAttribute()
    account = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)
    deliveries = NumberAttribute(default=0)
    lease_until = UTCDateTimeAttribute(attr_name="leaseUntil", null=True)
    payload = UnicodeAttribute()
    error = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute(attr_name="receivedAt")
    processed_at = UTCDateTimeAttribute(attr_name="processedAt", null=True)
    expires_at = TTLAttribute(attr_name="expiresAt")


class MetricEventItem(Model):
    """What the metrics pipeline remembers for a while, by key (casset.metric_rules): a viewer's impression
    claim on a visual (impression#…), an event id already counted (event#…), a day's viewer salt (salt#…)."""

    class Meta:
        table_name = "MetricEvents"

    key = UnicodeAttribute(hash_key=True)
    value = UnicodeAttribute(null=True)  # the salt, on salt items
    expires_at = TTLAttribute(attr_name="expiresAt")


class HookShareItem(Model):
    """A shared hook (/s/{id}): the track, where the hook starts, the visual chosen, and who shared it."""

    class Meta:
        table_name = "HookShares"

    id = UnicodeAttribute(hash_key=True)
    track_id = UnicodeAttribute(attr_name="trackId")
    hook_start_sec = NumberAttribute(attr_name="hookStartSec")
    visual_id = UnicodeAttribute(attr_name="visualId", null=True)
    sharer_user_id = UnicodeAttribute(attr_name="sharerUserId")
    referral_code = UnicodeAttribute(attr_name="referralCode", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")


# Which setting names each item's table (the setting's env var is set from template.yaml).
TABLE_SETTINGS: dict[type[Model], str] = {
    UserItem: "users_table",
    HandleItem: "handles_table",
    TrackItem: "tracks_table",
    VisualItem: "visuals_table",
    RateLimitItem: "rate_limits_table",
    ExportItem: "exports_table",
    PurchaseItem: "purchases_table",
    LedgerEntryItem: "credit_ledger_table",
    ReferralLinkItem: "referral_links_table",
    ReferralClickItem: "referral_clicks_table",
    ReferralAttributionItem: "referral_attributions_table",
    NotificationItem: "notifications_table",
    NotificationCounterItem: "notifications_table",
    ActivityItem: "activity_table",
    WebhookEventItem: "webhook_events_table",
    MetricEventItem: "metric_events_table",
    HookShareItem: "hook_shares_table",
}
ALL_ITEMS = tuple(TABLE_SETTINGS)


def bind_tables(settings: Settings) -> None:
    """Point each item class at its table. Idempotent and cheap, so every entry point may call it."""
    for item, setting in TABLE_SETTINGS.items():
        name = getattr(settings, setting)
        if item.Meta.table_name != name:
            item.Meta.table_name = name
            item._connection = None  # PynamoDB caches the connection with the table name
