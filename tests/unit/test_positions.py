"""Fractional positions: a move always finds room, and no other position has to change."""

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casset import positions


def test_first_position_and_appends_grow_slowly() -> None:
    keys = [positions.between(None, None)]
    for _ in range(500):
        keys.append(positions.between(keys[-1], None))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert max(map(len, keys)) <= 10  # 36 appends to reach "z", then one more character per 61


def test_inserting_at_the_front_keeps_going() -> None:
    keys = [positions.FIRST]
    for _ in range(200):
        keys.insert(0, positions.between(None, keys[0]))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(not key.endswith("0") for key in keys)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=120))
def test_any_sequence_of_inserts_keeps_list_order_equal_to_key_order(choices: list[int]) -> None:
    keys: list[str] = []
    for choice in choices:
        slot = choice % (len(keys) + 1)
        before = keys[slot - 1] if slot > 0 else None
        after = keys[slot] if slot < len(keys) else None
        key = positions.between(before, after)
        assert (before is None or before < key) and (after is None or key < after)
        keys.insert(slot, key)
    assert keys == sorted(keys)


def test_list_keys_order_like_position_then_id() -> None:
    rng = random.Random(7)
    pairs = [(positions.between(None, None), "B"), ("V", "A"), ("VV", "A"), ("U", "Z"), ("Vz", "0")]
    rng.shuffle(pairs)
    by_key = sorted(pairs, key=lambda pair: positions.list_key(*pair))
    assert by_key == sorted(pairs)


@pytest.mark.parametrize(("before", "after"), [("b", "a"), ("a", "a"), ("a0", None), ("a!", None)])
def test_impossible_requests_are_refused(before: str, after: str | None) -> None:
    with pytest.raises(ValueError):
        positions.between(before, after)
