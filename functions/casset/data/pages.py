"""Opaque cursors for key-ordered pages. A cursor names the last item returned, so pages neither repeat
nor skip items when others are inserted or removed meanwhile."""

import base64
import binascii
import json
from dataclasses import dataclass

from casset.errors import BadRequest


@dataclass(frozen=True)
class Position:
    sort_key: str
    item_id: str


def encode_cursor(position: Position) -> str:
    raw = json.dumps([position.sort_key, position.item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, item_id = json.loads(raw)
        if isinstance(sort_key, str) and isinstance(item_id, str) and sort_key and item_id:
            return Position(sort_key, item_id)
    except (binascii.Error, ValueError, TypeError):
        pass
    raise BadRequest("The cursor is not one this API handed out.", code="INVALID_CURSOR")
