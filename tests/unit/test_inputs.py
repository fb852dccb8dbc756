"""The edge's pure rules (casset.inputs): JSON depth and numbers, seconds quantised, text that can be
shown; and handles and keys matched whole."""

import re

import pytest

from casset import keys
from casset.errors import BadRequest
from casset.inputs import (
    MAX_JSON_DEPTH,
    check_display_text,
    nests_deeper_than,
    parse_json,
    quantise_seconds,
)
from casset.media_types import media_type
from casset.rules import handle_to_look_up, normalise_handle

# JSON


def test_nesting_is_counted_without_parsing_and_ignores_brackets_in_strings() -> None:
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    quoted = '["' + "[" * 1000 + '\\"[[["]'

    assert not nests_deeper_than(at_limit, MAX_JSON_DEPTH)
    assert nests_deeper_than("[" + at_limit + "]", MAX_JSON_DEPTH)
    assert nests_deeper_than("{" * 50_000, MAX_JSON_DEPTH)  # malformed: measured as far as it goes
    assert not nests_deeper_than(quoted, MAX_JSON_DEPTH)
    assert not nests_deeper_than("[1]" * 10_000, MAX_JSON_DEPTH)  # many, but side by side


def test_json_nested_too_deep_is_refused_with_its_own_code() -> None:
    with pytest.raises(BadRequest) as refused:
        parse_json("[" * 100_000 + "]" * 100_000)

    assert (refused.value.status, refused.value.code) == (400, "JSON_TOO_DEEP")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e400", "-1e400", "9" * 19])
def test_numbers_no_field_can_hold_are_refused_while_parsing(text: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_json(text)

    assert refused.value.code == "INVALID_NUMBER"


def test_ordinary_json_parses_as_json() -> None:
    assert parse_json('{"a": [1, 2.5, "x"], "b": null, "c": 1e-300, "d": 999999999999999999}') == {
        "a": [1, 2.5, "x"],
        "b": None,
        "c": 1e-300,
        "d": 999_999_999_999_999_999,
    }


# Numbers


@pytest.mark.parametrize(
    ("seconds", "quantised"),
    [
        (1e-300, 0.0),
        (-1e-300, 0.0),
        (12.3456789, 12.346),
        (5.0000001, 5.0),
        (29.9995, 30.0),
        (36_000, 36_000.0),
    ],
)
def test_seconds_are_quantised_to_the_millisecond(seconds: float, quantised: float) -> None:
    assert quantise_seconds(seconds) == quantised
    assert str(quantise_seconds(seconds)) != "-0.0"


# Text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "control character U+0000"),
        ("a\x1cb", "control character U+001C"),
        ("a\x7fb", "control character U+007F"),
        ("a\x85b", "control character U+0085"),
        ("a\nb", "control character U+000A"),
        ("a\u2028b", "control character U+2028"),
        ("exe.\u202emp3", "bidirectional control U+202E"),
        ("a\u202ab", "bidirectional control U+202A"),
        ("a\u2066b", "bidirectional control U+2066"),
        ("a\u2069b", "bidirectional control U+2069"),
        ("\u200b\u200c\u200d\u2060\ufeff", "no visible characters"),
        ("\u3164\u115f\u2800", "no visible characters"),
        ("\u00a0\u3000\ufe0f\u034f", "no visible characters"),
        ("\U000e0041", "no visible characters"),
    ],
)
def test_shown_text_refuses_controls_bidi_and_invisible_only_text(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        check_display_text(text)


@pytest.mark.parametrize(
    "text", ["Night Drive", "👩\u200d🎤", "ليل\u200f", "Beyoncé", "a\u00a0b", "東京", "❤\ufe0f", "x\u0301"]
)
def test_shown_text_keeps_what_people_write(text: str) -> None:
    assert check_display_text(text) == text


def test_line_breaks_only_where_lines_belong() -> None:
    assert check_display_text("one\ntwo", multiline=True) == "one\ntwo"
    with pytest.raises(ValueError, match=re.escape("U+0009")):
        check_display_text("one\ttwo", multiline=True)
    with pytest.raises(ValueError, match="no visible characters"):
        check_display_text("\n\n", multiline=True)


# Handles and keys: matched whole


@pytest.mark.parametrize("raw", ["@", "", "   ", "\x1c", "@ \x1c", "ab", "abc\n\n\x00", ".abc"])
def test_a_handle_that_could_be_no_ones_is_not_looked_up(raw: str) -> None:
    assert handle_to_look_up(raw) is None


def test_a_handle_is_looked_up_folded() -> None:
    assert handle_to_look_up(" @Night_Drive.1 ") == "night_drive.1"


@pytest.mark.parametrize("raw", ["@", "\x1c", "   ", "abc\x00"])
def test_a_handle_empty_or_broken_after_folding_is_invalid(raw: str) -> None:
    with pytest.raises(BadRequest) as refused:
        normalise_handle(raw)

    assert refused.value.code == "INVALID_HANDLE"


def test_keys_are_matched_whole_so_a_trailing_newline_is_not_a_key() -> None:
    upload = keys.upload("user-1", "0" * 26, media_type("video/mp4"))
    source = keys.visual_source("0" * 26, "1" * 26, media_type("video/mp4"))
    audio = keys.track_audio("0" * 26, "1" * 26, media_type("audio/mpeg"))

    assert keys.parse_upload(upload) is not None
    assert keys.parse_upload(upload + "\n") is None
    assert keys.parse_probe_target(source) is not None
    assert keys.parse_probe_target(source + "\n") is None
    assert keys.parse_probe_target(audio + "\n") is None
