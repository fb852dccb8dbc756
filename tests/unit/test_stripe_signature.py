"""Webhook signatures checked the way Stripe signs them (stripe-python's tests' scheme), offline."""

import hashlib
import hmac
import json
import time

import pytest

from casset.data.stripe_api import SignatureInvalid, verify_event

SECRET = "whsec_unit"
PAYLOAD = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"})


def _header(payload: str, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_a_fresh_signature_over_the_raw_body_verifies() -> None:
    verify_event(PAYLOAD, _header(PAYLOAD), SECRET, 300)


@pytest.mark.parametrize(
    "header",
    [
        _header(PAYLOAD, secret="whsec_other"),
        _header(PAYLOAD, timestamp=int(time.time()) - 301),
        _header(PAYLOAD + " "),  # signed a different body
        "t=1,v1=",
        "garbage",
    ],
    ids=["wrong-secret", "expired", "other-body", "empty-digest", "garbage"],
)
def test_anything_else_is_refused(header: str) -> None:
    with pytest.raises(SignatureInvalid):
        verify_event(PAYLOAD, header, SECRET, 300)
