"""What of a paid track reaches people who have not collected it: pure rules, no I/O.

Everyone may hear a track's hook (`previewStartSec`, `hookDurationSec`); only the track's artist and fans
the entitlement check (casset.services.entitlements) lets hear the full track may pick another window of
it, for an export or a share. An export is a rendering of a window of the audio over a visual, so whoever
may read one is whoever could ask for it: its requester, the artist, and anyone to whom both its window
and its visual are open.

Entitlement costs reads, so the rules take it as a zero-argument callable and ask it only when the answer
depends on it."""

from collections.abc import Callable
from dataclasses import dataclass

from casset.entities import RenderPlan, Track, Visual
from casset.errors import Forbidden
from casset.rules import Caller, can_see

HOOK_WINDOW_LOCKED = "HOOK_WINDOW_LOCKED"
# Windows are kept to the millisecond (exports round their plan, shares their start).
_PRECISION = 3


@dataclass(frozen=True)
class HookWindow:
    start_sec: float
    duration_sec: float

    def same_as(self, other: "HookWindow") -> bool:
        return round(self.start_sec, _PRECISION) == round(other.start_sec, _PRECISION) and round(
            self.duration_sec, _PRECISION
        ) == round(other.duration_sec, _PRECISION)


def track_hook(track: Track) -> HookWindow:
    """The window everyone may hear: the one the hook preview clip is cut from."""
    return HookWindow(track.preview_start_sec, track.hook_duration_sec)


def hook_window(
    track: Track,
    default: HookWindow,
    asked_start_sec: float | None,
    asked_duration_sec: float | None,
    may_choose: Callable[[], bool],
) -> HookWindow:
    """The window a caller gets: what they asked for over the default (a share's window, or the track's
    hook) when they may choose; otherwise the track's hook whatever the default says, and a 403 when
    they explicitly asked for anything else."""
    hook = track_hook(track)
    wanted = HookWindow(
        default.start_sec if asked_start_sec is None else asked_start_sec,
        default.duration_sec if asked_duration_sec is None else asked_duration_sec,
    )
    if wanted.same_as(hook) or may_choose():
        return wanted
    asked_other_start = asked_start_sec is not None and round(asked_start_sec, _PRECISION) != round(
        hook.start_sec, _PRECISION
    )
    asked_other_length = asked_duration_sec is not None and round(asked_duration_sec, _PRECISION) != round(
        hook.duration_sec, _PRECISION
    )
    if asked_other_start or asked_other_length:
        raise Forbidden(
            f"Only the track's artist and fans who collected the artist choose the window; everyone "
            f"else gets the track's hook ({hook.start_sec:g}s for {hook.duration_sec:g}s). Ask for it "
            f"or for no window at all.",
            code=HOOK_WINDOW_LOCKED,
            details=[{"hookStartSec": hook.start_sec, "hookDurationSec": hook.duration_sec}],
        )
    return hook


def window_is_public(plan: RenderPlan, track: Track) -> bool:
    """The plan renders the hook of the track's current audio: what anyone may hear today."""
    return plan.audio_key == track.audio_key and HookWindow(
        plan.hook_start_sec, plan.hook_duration_sec
    ).same_as(track_hook(track))


def may_read_export(
    caller: Caller,
    plan: RenderPlan,
    requested_by: str | None,
    track: Track | None,
    visual: Visual | None,
    entitled: Callable[[], bool],
) -> bool:
    """Who may read an export (and so download it): whoever asked for it first, the track's artist, and
    anyone who could ask for the same export now: its visual is one they may see (or there is none) and
    its window is the track's public hook, or they may hear the full track. `visual` is the plan's
    visual as stored now (None when the plan has none or it is gone)."""
    if caller.user_id is None:
        return False
    if caller.user_id == requested_by:
        return True
    if track is None or track.id != plan.track_id:
        return False
    if caller.user_id == track.artist_id:
        return True
    if plan.visual_id is not None and (
        visual is None
        or visual.id != plan.visual_id
        or visual.track_id != track.id
        or not can_see(caller, track, visual)
    ):
        return False
    return window_is_public(plan, track) or entitled()
