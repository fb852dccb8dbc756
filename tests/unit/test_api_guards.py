import pytest
from pydantic import ValidationError

from api.auth import _groups
from api.guards import parse_json_body
from casset.errors import BadRequest, PayloadTooLarge
from casset.settings import Settings


def test_json_bodies_parse() -> None:
    assert parse_json_body('{"title": "Song"}') == {"title": "Song"}


def test_oversize_bodies_are_refused_before_parsing() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json_body('{"x": "' + "a" * 70_000 + '"}')


def test_multibyte_bodies_are_measured_in_bytes() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_json_body('{"x": "' + "é" * 33_000 + '"}')


def test_malformed_json_has_its_own_code() -> None:
    with pytest.raises(BadRequest) as error:
        parse_json_body("{nope")
    assert error.value.code == "MALFORMED_JSON"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("[admin editors]", {"admin", "editors"}), (["admin"], {"admin"}), ("admin", {"admin"}), (None, set())],
)
def test_group_claims_in_every_shape_api_gateway_sends(raw: object, expected: set[str]) -> None:
    assert _groups(raw) == expected


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_a_write_budget_below_one_is_a_configuration_error(limit: str) -> None:
    # Given a write budget that would refuse every write (or count backwards)
    # When the settings are read
    # Then they refuse it, rather than the API answering 429 to every write
    with pytest.raises(ValidationError):
        Settings.model_validate({"RATE_LIMIT_MUTATIONS_PER_MINUTE": limit})
