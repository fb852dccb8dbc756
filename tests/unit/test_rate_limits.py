"""The sliding-window arithmetic of casset.data.rate_limits: the previous window's counter weighs by how
much of it the sliding window still covers, so a budget cannot be spent twice across a boundary."""

import math

import pytest

from casset.data.rate_limits import room_in_window, wait_for_room

HOUR = 3600


@pytest.mark.parametrize(
    ("limit", "previous", "elapsed", "room"),
    [
        (20, 0, 0, 20),  # nothing before: the whole budget
        (20, 20, 0, 0),  # a full hour just ended: nothing yet
        (20, 20, 10, 0),  # ten seconds on, the earlier hour still weighs 19.94
        (20, 20, 1800, 10),  # half-way: half of it
        (20, 20, 3240, 18),  # 90 % on: 2 of it left, 18 of room
        (9, 9, HOUR / 3, 3),  # exactly 3 of room (9 - 9 * 2/3 computes as 2.999...: not 2)
        (20, 25, 0, 0),  # a limit lowered since: never negative
    ],
)
def test_room_in_the_current_window(limit: int, previous: int, elapsed: float, room: int) -> None:
    assert room_in_window(limit, previous, elapsed, HOUR) == room


def test_a_refused_hit_waits_until_the_previous_windows_weight_has_decayed_enough() -> None:
    # Limit 2, both spent in the previous hour, none in this one, 10 s in: one fits once 2 * w <= 1
    assert wait_for_room(2, 2, 0, 10, HOUR) == 1790


def test_a_full_current_window_waits_into_the_next() -> None:
    # Limit 3, three writes this minute, 20 s in: 40 s to its end, then a third of the next minute
    assert wait_for_room(3, 0, 3, 20, 60) == 60
    # Limit 1, one render this hour, 60 s in: the rest of this hour and all of the next
    assert wait_for_room(1, 0, 1, 60, HOUR) == 3540 + 3600


def test_room_now_means_no_wait() -> None:
    assert wait_for_room(5, 0, 2, 30, 60) == 0


@pytest.mark.parametrize("elapsed", [45.49953 + step / 100_000 for step in range(-50, 50)])
def test_a_caller_who_waits_the_retry_after_finds_room(elapsed: float) -> None:
    # Given a minute budget of 12, 8 hits in the previous minute and the current counter full
    limit, previous, window = 12, 8, 60
    full = room_in_window(limit, previous, elapsed, window)
    # When the caller waits the whole seconds of the Retry-After it is given
    retry_after = max(1, math.ceil(wait_for_room(limit, previous, full, elapsed, window)))
    # Then one more hit fits
    assert room_in_window(limit, previous, elapsed + retry_after, window) > full
