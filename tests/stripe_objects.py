"""Stripe's own objects: fixtures3.json of stripe/openapi (the resources the webhook tests use, unmodified,
in stripe_fixtures3.json beside this file), with our ids, amounts and metadata written over them. They
carry the shapes Stripe really sends, which the Stripe fake's do not: `latest_charge` an id,
`payment_intent` null on charges and disputes, no `transfer` on the charge, inquiry statuses."""

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

STRIPE_FIXTURES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).parent / "stripe_fixtures3.json").read_text()
)["resources"]
ABSENT = object()  # a field Stripe leaves out


def stripe_object(resource: str, **fields: Any) -> dict[str, Any]:
    """Stripe's fixture object of this resource with `fields` written over it (ABSENT removes one)."""
    obj = copy.deepcopy(STRIPE_FIXTURES[resource])
    for name, value in fields.items():
        if value is ABSENT:
            obj.pop(name, None)
        else:
            obj[name] = value
    return obj


def stripe_event(
    event_type: str, obj: dict[str, Any], *, account: str | None = None, created: int | None = None
) -> dict[str, Any]:
    """Stripe's fixture event around an object, with a fresh id."""
    built = stripe_object(
        "event",
        id=f"evt_{uuid.uuid4().hex[:24]}",
        type=event_type,
        created=int(time.time()) if created is None else created,
        data={"object": obj},
    )
    if account:
        built["account"] = account
    return built
