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
    preview_queue_url: str = Field("", alias="PREVIEW_QUEUE_URL")
    purchases_table: str = Field("Purchases", alias="PURCHASES_TABLE")
    credit_ledger_table: str = Field("CreditLedger", alias="CREDIT_LEDGER_TABLE")
    referral_links_table: str = Field("ReferralLinks", alias="REFERRAL_LINKS_TABLE")
    referral_clicks_table: str = Field("ReferralClicks", alias="REFERRAL_CLICKS_TABLE")
    referral_attributions_table: str = Field("ReferralAttributions", alias="REFERRAL_ATTRIBUTIONS_TABLE")
    notifications_table: str = Field("Notifications", alias="NOTIFICATIONS_TABLE")
    activity_table: str = Field("Activity", alias="ACTIVITY_TABLE")
    webhook_events_table: str = Field("WebhookEvents", alias="WEBHOOK_EVENTS_TABLE")
    hook_shares_table: str = Field("HookShares", alias="HOOK_SHARES_TABLE")
    media_bucket: str = Field("casset-media", alias="MEDIA_BUCKET")

    # Presigned upload and download links.
    upload_url_ttl_sec: int = Field(900, alias="UPLOAD_URL_TTL_SEC")
    download_url_ttl_sec: int = Field(3600, alias="DOWNLOAD_URL_TTL_SEC")
    max_upload_bytes: int = Field(500 * MIB, alias="MAX_UPLOAD_BYTES")
    # A PROCESSING record whose upload has not arrived this long after its presigned POST expired (an
    # upload begun just before expiry may still be landing) ends FAILED UPLOAD_NEVER_ARRIVED. The sweep
    # reads this many days of deadlines back, in case it did not run for a while.
    upload_grace_sec: int = Field(900, alias="UPLOAD_GRACE_SEC", ge=0)
    upload_expiry_lookback_days: int = Field(3, alias="UPLOAD_EXPIRY_LOOKBACK_DAYS", ge=0)

    # Media rules the probe enforces.
    max_visual_duration_sec: float = Field(30.0, alias="MAX_VISUAL_DURATION_SEC")
    max_audio_duration_sec: float = Field(3600.0, alias="MAX_AUDIO_DURATION_SEC")
    max_video_side_px: int = Field(4096, alias="MAX_VIDEO_SIDE_PX")

    # Exports: outputs live 7 days (bucket lifecycle); a job record a little less, so a cache hit never
    # points at an expired file.
    export_retention_days: int = Field(6, alias="EXPORT_RETENTION_DAYS")
    # Rendering costs money: each user starts at most this many renders an hour (a cache hit is free),
    # and no new render is queued while this many are queued or rendering. A job counts as in flight
    # for at most the horizon: three deliveries at the render queue's 30-minute visibility timeout,
    # after which the dead-letter function has ended it.
    export_renders_per_hour: int = Field(20, alias="EXPORT_RENDERS_PER_HOUR", ge=1)
    export_max_in_flight: int = Field(100, alias="EXPORT_MAX_IN_FLIGHT", ge=1)
    export_in_flight_horizon_sec: int = Field(5400, alias="EXPORT_IN_FLIGHT_HORIZON_SEC", ge=60)
    # A QUEUED export untouched this long may have lost its queue message (the send failed): the next
    # identical request sends it again, once per this interval.
    export_resend_after_sec: int = Field(10, alias="EXPORT_RESEND_AFTER_SEC", ge=1)

    # Signed audio links: the full track and the hook preview are handed out for minutes, not hours, so
    # a link shared after a refund stops working soon.
    audio_url_ttl_sec: int = Field(300, alias="AUDIO_URL_TTL_SEC")

    # Stripe. Secrets never live here: these are the names of SSM SecureString parameters, read through
    # Powertools Parameters (cached for stripe_secret_max_age_sec).
    stripe_api_key_parameter: str = Field("", alias="STRIPE_API_KEY_PARAMETER")
    stripe_webhook_secret_parameter: str = Field("", alias="STRIPE_WEBHOOK_SECRET_PARAMETER")
    stripe_connect_webhook_secret_parameter: str = Field("", alias="STRIPE_CONNECT_WEBHOOK_SECRET_PARAMETER")
    stripe_secret_max_age_sec: int = Field(300, alias="STRIPE_SECRET_MAX_AGE_SEC")
    stripe_publishable_key: str = Field("", alias="STRIPE_PUBLISHABLE_KEY")
    # Empty means Stripe's own API; the local stack and the tests point it at the fake on loopback.
    stripe_api_base: str = Field("", alias="STRIPE_API_BASE")
    # Events from the other mode (test events reaching a live deployment, or the reverse) are ignored.
    stripe_livemode: bool = Field(False, alias="STRIPE_LIVEMODE")
    stripe_webhook_tolerance_sec: int = Field(300, alias="STRIPE_WEBHOOK_TOLERANCE_SEC")
    # How far back the reconciliation job asks Stripe for undelivered events (Stripe retries for 3 days).
    stripe_reconcile_days: int = Field(3, alias="STRIPE_RECONCILE_DAYS")

    # Commerce rules. Basis points: 1000 = 10 %.
    platform_fee_bps: int = Field(1000, alias="PLATFORM_FEE_BPS", ge=0, le=10_000)
    referral_credit_bps: int = Field(500, alias="REFERRAL_CREDIT_BPS", ge=0, le=10_000)
    referral_window_days: int = Field(30, alias="REFERRAL_WINDOW_DAYS", ge=1)
    # Where people land: the artist's page is {site_url}/{handle}; short links are {short_link_base_url}/r/…
    site_url: str = Field("http://localhost:3000", alias="SITE_URL")
    short_link_base_url: str = Field("http://localhost:3000", alias="SHORT_LINK_BASE_URL")

    # Request guards.
    max_body_bytes: int = Field(64 * 1024, alias="MAX_BODY_BYTES")
    mutations_per_minute: int = Field(60, ge=1, alias="RATE_LIMIT_MUTATIONS_PER_MINUTE")

    # Visual metrics: events go on the metrics queue; the aggregator folds them into the visuals'
    # counters and forwards them to the analytics bus.
    metrics_queue_url: str = Field("", alias="METRICS_QUEUE_URL")
    metric_events_table: str = Field("MetricEvents", alias="METRIC_EVENTS_TABLE")
    metrics_event_bus: str = Field("casset-visual-events", alias="METRICS_EVENT_BUS")
    visual_events_per_minute: int = Field(30, alias="METRICS_EVENTS_PER_MINUTE", ge=1)  # per viewer+visual
    impression_window_sec: int = Field(1800, alias="METRICS_IMPRESSION_WINDOW_SEC", ge=1)
    # Older events are not counted: their markers may be gone. Equal to the dead-letter queue's retention.
    metric_event_max_age_days: int = Field(14, alias="METRICS_EVENT_MAX_AGE_DAYS", ge=1)

    # Which JWT claim carries the caller's groups (Cognito's by default).
    groups_claim: str = Field("cognito:groups", alias="AUTH_GROUPS_CLAIM")
    enable_swagger: bool = Field(False, alias="ENABLE_SWAGGER")

    # Feature flags (casset/flags.py): a JSON file in Powertools' schema when FEATURE_FLAGS_FILE is set
    # (make dev, tests), else the AppConfig profile the template deploys. max_age: how long a read document
    # is trusted before AppConfig is asked again, and how long to wait after a failed read.
    feature_flags_file: str = Field("", alias="FEATURE_FLAGS_FILE")
    feature_flags_application: str = Field("", alias="FEATURE_FLAGS_APPLICATION")
    feature_flags_environment: str = Field("", alias="FEATURE_FLAGS_ENVIRONMENT")
    feature_flags_profile: str = Field("", alias="FEATURE_FLAGS_PROFILE")
    feature_flags_max_age_sec: int = Field(60, alias="FEATURE_FLAGS_MAX_AGE_SEC", ge=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
