"""What the edge accepts from outside, as pure rules: JSON that parses without deep recursion and holds only
numbers DynamoDB can store, text that can be shown (in a video, a page, a notification), and numbers
quantised to what they mean. The API's request models (api/schemas.py) and the webhook functions use
these; nothing here touches AWS or pydantic."""

import json
import math
import re
import unicodedata
from typing import Any

from casset.errors import BadRequest

# Every request body is an object of scalars and lists of scalars: two levels. 32 is generous, and far
# below where parsing (or validating) recursion could blow up.
MAX_JSON_DEPTH = 32
# The largest integer a JSON number carries exactly everywhere (2**53 - 1): the bound of every count.
MAX_SAFE_INTEGER = 2**53 - 1
# An integer with more digits than this is no count, size or amount of ours; DynamoDB stores 38 digits.
MAX_INTEGER_DIGITS = 18

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]")
_OPENING = frozenset("[{")


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels in `text`, found without parsing it
    (brackets inside strings do not count). Malformed text is measured as far as it goes; the parser
    refuses it afterwards."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the depth is at most the number of openings: the usual body is never scanned
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        depth += 1 if bracket in _OPENING else -1
        if depth > limit:
            return True
    return False


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not a number JSON allows.", code="INVALID_NUMBER")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"The number {text[:40]} is out of range.", code="INVALID_NUMBER")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise BadRequest(
            f"Integers have at most {MAX_INTEGER_DIGITS} digits; {text[:40]}... has {len(text)}.",
            code="INVALID_NUMBER",
        )
    return int(text)


def check_nesting(text: str) -> None:
    if nests_deeper_than(text, MAX_JSON_DEPTH):
        raise BadRequest(f"JSON nests at most {MAX_JSON_DEPTH} levels deep.", code="JSON_TOO_DEEP")


def parse_json(text: str) -> Any:
    """JSON from outside: too deep a nesting is refused before parsing (JSON_TOO_DEEP), NaN, Infinity,
    numbers that overflow a float and integers longer than any field takes while parsing
    (INVALID_NUMBER); malformed text raises json.JSONDecodeError."""
    check_nesting(text)
    return json.loads(
        text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int
    )


# Numbers


def quantise_seconds(value: float) -> float:
    """Seconds to the millisecond: what a hook or a duration means, and a number DynamoDB can store
    (1e-300 is 0.0, not a 'Number underflow'). -0.0 becomes 0.0."""
    return round(value, 3) + 0.0


# Text that is shown


# Bidirectional embeddings, overrides and isolates reorder what follows them: a title could display as
# something else than it is (U+202E turns "3pm.exe" around), and the video renders it literally.
BIDI_CONTROLS = frozenset(chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Characters that draw nothing, beyond whitespace and format characters (category Cf): combining grapheme
# joiner, Hangul fillers, the braille blank, the variation selectors.
_BLANK = frozenset(
    ["\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"]
    + [chr(code) for code in range(0xFE00, 0xFE10)]
    + [chr(code) for code in range(0xE0100, 0xE01F0)]
)
_LINE_BREAKS = frozenset("\u2028\u2029")


def is_invisible(character: str) -> bool:
    return character.isspace() or unicodedata.category(character) == "Cf" or character in _BLANK


def check_display_text(value: str, *, multiline: bool = False) -> str:
    """Text someone else will see: no control characters (a line feed only where lines are allowed), no
    bidirectional overrides or isolates, and something visible once invisible characters are set aside.
    Raises ValueError naming the problem (the request models report it as a validation error)."""
    for character in value:
        if character == "\n" and multiline:
            continue
        if unicodedata.category(character) in {"Cc", "Cs"} or character in _LINE_BREAKS:
            raise ValueError(f"contains the control character U+{ord(character):04X}")
        if character in BIDI_CONTROLS:
            raise ValueError(f"contains the bidirectional control U+{ord(character):04X}")
    if all(is_invisible(character) for character in value):
        raise ValueError("has no visible characters")
    return value
