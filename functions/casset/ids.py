"""Identifiers: time-ordered, URL-safe, unguessable (a ULID in Crockford base32)."""

import hashlib
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id() -> str:
    """26 chars: 48 bits of milliseconds then 80 random bits, so ids sort by creation time."""
    value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def is_id(text: str) -> bool:
    return len(text) == 26 and all(ch in _ALPHABET for ch in text)


def derived_id(*parts: str) -> str:
    """26 chars of the same alphabet, the same for the same parts: an id that makes a second write of the
    same thing collide (a conditional put then refuses it) instead of making a duplicate."""
    value = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:17]) >> 6
    return "".join(_ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))
