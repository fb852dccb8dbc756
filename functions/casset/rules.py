"""Business rules as pure functions: no AWS, no I/O, so they are tested directly."""

import re
from dataclasses import dataclass, field

from casset.entities import MediaStatus, Track, User, Visual
from casset.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized

HOOK_MIN_SEC = 5.0
HOOK_MAX_SEC = 30.0
HOOK_DEFAULT_SEC = 15.0

_HANDLE = re.compile(r"^[a-z0-9_][a-z0-9_.]{2,29}$")
RESERVED_HANDLES = frozenset(
    {"admin", "api", "casset", "help", "root", "settings", "studio", "support", "swagger"}
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the JWT subject and groups, or nobody on an anonymous route."""

    user_id: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    def require_user(self) -> str:
        if not self.user_id:
            raise Unauthorized("Sign in to do this.")
        return self.user_id


def normalise_handle(raw: str) -> str:
    handle = raw.strip().removeprefix("@").lower()
    if not _HANDLE.match(handle):
        raise BadRequest(
            "A handle is 3-30 characters: letters, digits, underscores and dots, not starting with a dot.",
            code="INVALID_HANDLE",
        )
    if handle in RESERVED_HANDLES:
        raise Conflict(f"The handle @{handle} is reserved.", code="HANDLE_TAKEN")
    return handle


def check_hook(start_sec: float, duration_sec: float, audio_duration_sec: float | None) -> None:
    if start_sec < 0:
        raise BadRequest("The hook cannot start before the track.", code="INVALID_HOOK")
    if not HOOK_MIN_SEC <= duration_sec <= HOOK_MAX_SEC:
        raise BadRequest(
            f"A hook lasts between {HOOK_MIN_SEC:g} and {HOOK_MAX_SEC:g} seconds.", code="INVALID_HOOK"
        )
    if audio_duration_sec is not None and start_sec + duration_sec > audio_duration_sec + 1e-6:
        raise BadRequest(
            f"The hook ends at {start_sec + duration_sec:g}s but the audio lasts {audio_duration_sec:g}s.",
            code="INVALID_HOOK",
        )


def fit_hook(start_sec: float, duration_sec: float, audio_duration_sec: float) -> tuple[float, float] | None:
    """The hook moved inside audio that turned out shorter than it; None when it already fits."""
    if start_sec + duration_sec <= audio_duration_sec:
        return None
    duration = min(duration_sec, audio_duration_sec)
    return max(0.0, audio_duration_sec - duration), duration


def require_artist(user: User | None) -> User:
    if user is None:
        raise Forbidden("Create your profile first.", code="PROFILE_REQUIRED")
    if not user.is_artist:
        raise Forbidden("Only artists can do this; turn on your artist profile.", code="NOT_AN_ARTIST")
    return user


def require_track_owner(caller: Caller, track: Track) -> None:
    if caller.require_user() != track.artist_id:
        raise Forbidden("Only the track's artist can do this.", code="NOT_TRACK_OWNER")


def can_see(caller: Caller, track: Track, visual: Visual) -> bool:
    """Fans see READY visuals; the artist and the uploader see every status."""
    if visual.status is MediaStatus.READY:
        return True
    return caller.user_id is not None and caller.user_id in {track.artist_id, visual.uploader_user_id}


def check_can_activate(visual: Visual) -> None:
    if visual.status is MediaStatus.ARCHIVED:
        raise Conflict(
            "An archived visual cannot be made active; unarchive it first.", code="VISUAL_ARCHIVED"
        )
    if visual.status is not MediaStatus.READY:
        raise Conflict(
            f"Only a READY visual can be made active; this one is {visual.status.value}.",
            code="VISUAL_NOT_READY",
        )


def check_can_archive(visual: Visual) -> None:
    if visual.status is MediaStatus.ARCHIVED:
        raise Conflict("The visual is already archived.", code="VISUAL_ALREADY_ARCHIVED")
    if visual.status is MediaStatus.PROCESSING:
        raise Conflict("Wait until the visual is processed before archiving it.", code="VISUAL_PROCESSING")


def visual_of_track(visual: Visual | None, track_id: str) -> Visual:
    if visual is None or visual.track_id != track_id:
        raise NotFound("No such visual on this track.", code="VISUAL_NOT_FOUND")
    return visual
