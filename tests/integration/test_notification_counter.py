"""The bell's unread count is a counter written with the notifications and with marking them read: reading
the bell reads one page and one item, however many notifications the user has."""

from collections.abc import Iterator
from typing import Any

import botocore.client
import pytest

from casset.clock import utcnow
from casset.data import purchases as purchases_data
from casset.entities import Notification, PaymentFacts, Purchase, PurchaseState
from tests.conftest import Api
from tests.integration.support import fresh


def notify(user_id: str, count: int) -> list[str]:
    """`count` notifications for the user, each written by a purchase's effects transaction."""
    ids = []
    for index in range(count):
        now = utcnow()
        intent = fresh("pi_")
        purchase = Purchase(
            facts=PaymentFacts(payment_intent_id=intent),
            state=PurchaseState.PENDING,
            created_at=now,
            updated_at=now,
        )
        notification = Notification(
            user_id=user_id,
            id=f"{now.isoformat()}#COLLECT#{intent}",
            kind="COLLECT",
            message=f"collect {index}",
            purchase_id=intent,
            created_at=now,
        )
        purchases_data.apply(
            purchase,
            state=PurchaseState.GRANTED,
            payout_state=None,
            reward_state=None,
            effects=["grant"],
            notifications=[notification],
        )
        ids.append(notification.id)
    return ids


@pytest.fixture
def dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every DynamoDB API call made while the test runs, with its parameters."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls.append((operation, params))
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    yield calls


def test_the_bell_counts_unread_without_reading_the_partition(
    api: Api, dynamodb_calls: list[tuple[str, dict[str, Any]]]
) -> None:
    # Given a user with 30 unread notifications
    user = fresh("bell-")
    notify(user, 30)
    dynamodb_calls.clear()
    # When the bell is read a page of 5 at a time
    status, bell, _ = api("GET", "/api/notifications", user=user, query={"limit": "5"})
    # Then it shows 5 items and counts 30 unread
    assert status == 200
    assert (len(bell["items"]), bell["unread"]) == (5, 30)
    assert all(item["kind"] == "COLLECT" for item in bell["items"])
    # And it read one page (no filter over the partition) and the counter's one item
    queries = [params for operation, params in dynamodb_calls if operation == "Query"]
    assert [query.get("Limit") for query in queries] == [6]
    assert all("FilterExpression" not in query for query in queries)
    assert [op for op, _ in dynamodb_calls if op in {"GetItem", "Scan"}] == ["GetItem"]


def test_marking_read_moves_the_count_once_per_notification(api: Api) -> None:
    # Given a user with 3 unread notifications
    user = fresh("bell-")
    first, second, _ = notify(user, 3)
    # When two are marked read, one of them twice, and someone else tries to mark the third
    assert api("POST", "/api/notifications/read", user=user, body={"ids": [first, second, first]})[1] == {
        "marked": 2
    }
    assert api("POST", "/api/notifications/read", user=user, body={"ids": [first]})[1] == {"marked": 0}
    assert api("POST", "/api/notifications/read", user=fresh("other-"), body={"ids": [second]})[1] == {
        "marked": 0
    }
    # Then one is left unread, and every page of the bell holds notifications only
    _, bell, _ = api("GET", "/api/notifications", user=user)
    assert bell["unread"] == 1
    assert [item["read"] for item in bell["items"]] == [False, True, True]


def test_a_user_without_notifications_has_none_unread(api: Api) -> None:
    _, bell, _ = api("GET", "/api/notifications", user=fresh("bell-"))
    assert (bell["items"], bell["unread"], bell["nextCursor"]) == ([], 0, None)
