import pytest
from hypothesis import given
from hypothesis import strategies as st

from casset.data.pages import Position, decode_cursor, encode_cursor
from casset.errors import BadRequest


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_cursors_round_trip(sort_key: str, item_id: str) -> None:
    position = Position(sort_key, item_id)
    assert decode_cursor(encode_cursor(position)) == position


@pytest.mark.parametrize("cursor", ["", "not-base64!!", "bnVsbA", "WzEsMl0", "W10"])
def test_foreign_cursors_are_a_400(cursor: str) -> None:
    with pytest.raises(BadRequest) as error:
        decode_cursor(cursor)
    assert error.value.code == "INVALID_CURSOR"
