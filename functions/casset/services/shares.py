"""Hook shares: a short link (/s/{id}) to one hook of a track with the visual the sharer chose.

Opening it lands on the preview page with that visual and sets the sharer's referral cookie, exactly as
/r/{code} does; an export can start from it. Which visual a share (or an export) shows is decided here, in
one place: an explicitly asked visual must be READY; a shared one that was archived since falls back to
the track's active visual and says so. While visual_pairing_v2 is off for the track's artist a share shows
as if it carried no visual; while visual_pairing_v1 is off the cover stands in for the active visual.
Nothing here counts shares: the metrics pipeline counts the client's `share` events."""

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from casset.clock import utcnow
from casset.data import shares as shares_data
from casset.data import users as users_data
from casset.data import visuals as visuals_data
from casset.entities import HookShare, MediaStatus, Track, User, Visual
from casset.errors import Conflict, NotFound
from casset.flags import Feature, is_enabled, require_for
from casset.paywall import hook_window, track_hook
from casset.rules import Caller, check_hook, fit_hook, visible_visual
from casset.services import entitlements, referrals
from casset.services.tracks import get_track
from casset.settings import get_settings

# Letters and digits without the look-alikes 0/O, 1/l/I: ids get read off screens and retyped.
SHARE_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
SHARE_ID_LENGTH = 9  # 57^9 ≈ 6e15 ids, ~52 bits: collisions are rare, guessing a given one hopeless
_ID_ATTEMPTS = 4

VISUAL_UNAVAILABLE = "VISUAL_UNAVAILABLE"


@dataclass(frozen=True)
class Fallback:
    """Why the visual shown is not the one that was shared."""

    code: str
    message: str


@dataclass(frozen=True)
class VisualChoice:
    visual: Visual | None  # None: the static cover
    fallback: Fallback | None = None


@dataclass(frozen=True)
class ResolvedShare:
    """A share as the preview page shows it now."""

    share: HookShare
    hook_start_sec: float
    hook_duration_sec: float
    visual_id: str | None
    fallback: Fallback | None
    url: str
    preview_url: str


@dataclass(frozen=True)
class OpenedShare:
    redirect_url: str
    click_id: str | None  # the `ref` cookie's value; None when the share carries no referral
    max_age_sec: int


# Pure rules


def new_share_id() -> str:
    return "".join(secrets.choice(SHARE_ID_ALPHABET) for _ in range(SHARE_ID_LENGTH))


def is_share_id(text: str) -> bool:
    return len(text) == SHARE_ID_LENGTH and all(ch in SHARE_ID_ALPHABET for ch in text)


def share_url(share_id: str) -> str:
    return f"{get_settings().short_link_base_url.rstrip('/')}/s/{share_id}"


def preview_url(
    track_id: str, hook_start_sec: float, visual_id: str | None, share_id: str, fallback: Fallback | None
) -> str:
    """The preview page a share opens: {site}/preview/{trackId}?t=&v=&s=[&fallback=]."""
    query = {"t": seconds_text(hook_start_sec)}
    if visual_id:
        query["v"] = visual_id
    query["s"] = share_id
    if fallback:
        query["fallback"] = fallback.code.lower()
    return f"{get_settings().site_url.rstrip('/')}/preview/{track_id}?{urlencode(query)}"


def seconds_text(seconds: float) -> str:
    """12.5 → "12.5", 3.0 → "3": millisecond precision without float noise."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def referral_due(sharer: User | None, artist: User | None) -> bool:
    """A share credits its sharer like a referral link, except for the artist themself (self-referrals are
    dropped at checkout anyway) and sharers without a profile (a referral link needs one)."""
    return sharer is not None and artist is not None and artist.is_artist and sharer.id != artist.id


def check_ready(caller: Caller, visual: Visual | None, track: Track) -> Visual:
    """An explicitly asked visual: one of this track's the caller may see (404 otherwise, as reading it
    would answer) and READY (409 otherwise: only its artist or uploader learns its state)."""
    found = visible_visual(caller, track, visual)
    if found.status is not MediaStatus.READY:
        raise Conflict(f"The visual is {found.status.value}, not READY.", code="VISUAL_NOT_READY")
    return found


def unavailable(shared_id: str, shared: Visual | None, shown: Visual | None) -> Fallback:
    """The fallback a share gets when its visual can no longer be shown."""
    if shared is None:
        what = "no longer exists"
    elif shared.status is MediaStatus.ARCHIVED:
        what = "was archived by the artist"
    else:
        what = f"is {shared.status.value.lower()}"
    instead = (
        f"showing the track's active visual ({shown.id}) instead"
        if shown
        else "the track has no active visual, so its cover is shown"
    )
    return Fallback(VISUAL_UNAVAILABLE, f"The shared visual {shared_id} {what}; {instead}.")


def hook_of(share: HookShare, track: Track) -> tuple[float, float]:
    """Where the shared hook starts and how long it lasts now: the track's hook length from the shared
    start, moved back inside the audio if the artist lengthened the hook since."""
    duration = track.hook_duration_sec
    audio = track.audio.duration_sec if track.audio else None
    if audio is not None:
        fitted = fit_hook(share.hook_start_sec, duration, audio)
        if fitted:
            return fitted
    return share.hook_start_sec, duration


# Use cases


def enabled_for(feature: Feature, caller: Caller, track: Track) -> bool:
    return is_enabled(feature, artist_id=track.artist_id, user_id=caller.user_id, groups=caller.groups)


def as_shown(caller: Caller, share: HookShare, track: Track) -> HookShare:
    """The share without its visual while visual_pairing_v2 is off for the track's artist."""
    if share.visual_id is None or enabled_for(Feature.VISUAL_PAIRING_V2, caller, track):
        return share
    return share.model_copy(update={"visual_id": None})


def active_visual(caller: Caller, track: Track) -> Visual | None:
    """The track's READY active visual; none while visual_pairing_v1 is off for its artist."""
    if not track.active_visual_id or not enabled_for(Feature.VISUAL_PAIRING_V1, caller, track):
        return None
    active = visuals_data.get_visual(track.active_visual_id)
    return active if active and active.status is MediaStatus.READY else None


def pick_visual(caller: Caller, track: Track, asked_id: str | None, shared_id: str | None) -> VisualChoice:
    """The visual to show: the asked one (strict), else the shared one (falling back to the active one
    when it is no longer READY), else the track's active visual, else none."""
    if asked_id:
        return VisualChoice(check_ready(caller, visuals_data.get_visual(asked_id), track))
    if shared_id:
        shared = visuals_data.get_visual(shared_id)
        if shared and shared.track_id == track.id and shared.status is MediaStatus.READY:
            return VisualChoice(shared)
        shown = active_visual(caller, track)
        return VisualChoice(shown, unavailable(shared_id, shared, shown))
    return VisualChoice(active_visual(caller, track))


def create_share(
    caller: Caller, track_id: str, hook_start_sec: float | None, visual_id: str | None
) -> HookShare:
    """Validate everything, mint the sharer's referral link when due, then write the share under a new id."""
    sharer_id = caller.require_user()
    track = get_track(track_id)
    if visual_id:
        require_for(Feature.VISUAL_PAIRING_V2, caller, track.artist_id)
    if track.audio_status is not MediaStatus.READY or track.audio is None:
        raise Conflict("The track's audio is not processed yet.", code="AUDIO_NOT_READY")
    # A sharer who may not choose the window shares the track's hook, so the link carries nothing more.
    window = hook_window(
        track, track_hook(track), hook_start_sec, None, lambda: entitlements.hears_full_track(caller, track)
    )
    start = round(window.start_sec, 3)
    check_hook(start, track.hook_duration_sec, track.audio.duration_sec)
    visual = check_ready(caller, visuals_data.get_visual(visual_id), track) if visual_id else None
    artist = users_data.get_user(track.artist_id)
    code = None
    if artist and referral_due(users_data.get_user(sharer_id), artist):
        code = referrals.create_link(caller, artist.handle).code
    for _ in range(_ID_ATTEMPTS):
        share = HookShare(
            id=new_share_id(),
            track_id=track.id,
            hook_start_sec=start,
            visual_id=visual.id if visual else None,
            sharer_user_id=sharer_id,
            referral_code=code,
            created_at=utcnow(),
        )
        try:
            return shares_data.create_share(share)
        except Conflict as error:
            if error.code != "SHARE_ID_TAKEN":
                raise
    raise Conflict("Could not allocate a share id; try again.", code="SHARE_ID_TAKEN")


def get_share(share_id: str) -> HookShare:
    share = shares_data.get_share(share_id) if is_share_id(share_id) else None
    if share is None:
        raise NotFound("No such share.", code="SHARE_NOT_FOUND")
    return share


def resolve(caller: Caller, share_id: str) -> ResolvedShare:
    stored = get_share(share_id)
    track = get_track(stored.track_id)
    share = as_shown(caller, stored, track)
    start, duration = hook_of(share, track)
    choice = pick_visual(caller, track, None, share.visual_id)
    shown = choice.visual.id if choice.visual else None
    return ResolvedShare(
        share=share,
        hook_start_sec=start,
        hook_duration_sec=duration,
        visual_id=shown,
        fallback=choice.fallback,
        url=share_url(share.id),
        preview_url=preview_url(track.id, start, shown, share.id, choice.fallback),
    )


def open_share(caller: Caller, share_id: str) -> OpenedShare:
    """Where /s/{id} sends the browser, and the sharer's referral click, recorded as /r/{code} records it."""
    resolved = resolve(caller, share_id)
    code = resolved.share.referral_code
    opened = referrals.open_link(code) if code else None
    if opened is None or opened.click_id is None:
        return OpenedShare(resolved.preview_url, None, 0)
    return OpenedShare(resolved.preview_url, opened.click_id, opened.max_age_sec)
