"""Positions in an artist-ordered list: fractional keys, so moving one visual rewrites that visual only.

A position is a base-62 fraction written without its leading "0." and without trailing zeros ("V" is one
half). Between any two positions there is always another, so a move never renumbers the neighbours, and a
position never changes unless its own visual moves: the order is stable. Two writers that pick the same
position (two uploads at once) are ordered by visual id, which the list key appends.
"""

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BASE = len(DIGITS)
_VALUE = {digit: value for value, digit in enumerate(DIGITS)}
FIRST = "V"  # the middle, leaving room on both sides
# Sorts below every digit, so "a#id" < "a0#id": the list key orders exactly like (position, id).
_SEPARATOR = "#"


def list_key(position: str, item_id: str) -> str:
    return f"{position}{_SEPARATOR}{item_id}"


def after_all(position: str) -> str:
    """A position beyond `position`, short: bump the first digit that can be bumped, else grow by the
    smallest digit, so appends lengthen keys by one character per 61 appends."""
    _check(position)
    if not position:
        return FIRST
    for index, digit in enumerate(position):
        if digit != DIGITS[-1]:
            return position[:index] + DIGITS[_VALUE[digit] + 1]
    return position + DIGITS[1]


def between(before: str | None, after: str | None) -> str:
    """A position strictly between two (None: an open end)."""
    if before is None and after is None:
        return FIRST
    if after is None:
        return after_all(before or "")
    lower = before or ""
    _check(lower)
    _check(after)
    if lower >= after:
        raise ValueError(f"{lower!r} is not before {after!r}")
    return _midpoint(lower, after)


def _midpoint(lower: str, upper: str | None) -> str:
    # After rocicorp/fractional-indexing: share the common prefix, then split the first differing digit.
    if upper is not None:
        shared = 0
        while shared < len(upper) and (lower[shared] if shared < len(lower) else "0") == upper[shared]:
            shared += 1
        if shared:
            return upper[:shared] + _midpoint(lower[shared:], upper[shared:])
    low = _VALUE[lower[0]] if lower else 0
    high = _VALUE[upper[0]] if upper is not None else _BASE
    if high - low > 1:
        return DIGITS[(low + high + 1) // 2]
    if upper is not None and len(upper) > 1:
        return upper[0]
    return DIGITS[low] + _midpoint(lower[1:], None)


def _check(position: str) -> None:
    if position.endswith("0") or any(digit not in _VALUE for digit in position):
        raise ValueError(f"not a position: {position!r}")
