"""A signed webhook body nested thousands deep: Stripe's library and ours would recurse into it while
parsing (a RecursionError, a 500 that Stripe retries for days). It is a 400 before any parsing, and no
delivery is recorded."""

from typing import Any

import boto3

from tests.integration.commerce_support import deliver


def _recorded_deliveries() -> int:
    import os

    return int(
        boto3.client("dynamodb").scan(TableName=os.environ["WEBHOOK_EVENTS_TABLE"], Select="COUNT")["Count"]
    )


def test_a_signed_body_nested_thousands_deep_is_refused_before_parsing(stripe: Any) -> None:
    before = _recorded_deliveries()
    payload = (
        '{"id": "evt_deep", "type": "payment_intent.succeeded", "data": '
        + "[" * 100_000
        + "]" * 100_000
        + "}"
    )

    status, body = deliver(payload)

    assert (status, body["code"]) == (400, "JSON_TOO_DEEP")
    assert _recorded_deliveries() == before
