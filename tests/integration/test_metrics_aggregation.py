"""The metrics aggregator on moto with the real handler: batches fold into one counter write per visual,
redelivered events count once, and every event reaches the analytics bus.

Batches are handed to the handler as Lambda would (moto's event source mapping only ever delivers one
message per invocation), so redelivery, duplicates and partial failures are under the test's control."""

import json
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest

from casset.clock import utcnow
from casset.ids import new_id
from casset.metric_rules import VisualEvent, VisualEventType
from tests.conftest import Api
from tests.integration.support import (
    Artist,
    Media,
    add_visual,
    fresh,
    start_visual,
    studio_visual,
    visual_item,
)
from tests.integration.test_metrics_api import fire

Record = dict[str, Any]


def event(
    visual_id: str,
    kind: str = "pairing",
    *,
    counted: bool = True,
    occurred_at: datetime | None = None,
    event_id: str | None = None,
) -> VisualEvent:
    return VisualEvent(
        event_id=event_id or new_id(),
        visual_id=visual_id,
        track_id="track-of-" + visual_id,
        type=VisualEventType(kind),
        viewer="user:" + fresh("fan-"),
        counted=counted,
        occurred_at=occurred_at or utcnow(),
    )


def record(body: str, message_id: str | None = None) -> Record:
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "x"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:casset-local-MetricsQueue",
        "awsRegion": "us-east-1",
    }


def records(events: list[VisualEvent]) -> list[Record]:
    return [record(e.wire()) for e in events]


def deliver(batch: list[Record]) -> list[str]:
    """Run the aggregator on one batch; returns the message ids it asks to have redelivered."""
    from infra.local.functions import LambdaContext
    from metrics.handler import lambda_handler

    answer = lambda_handler({"Records": batch}, LambdaContext("aggregator", 512, 60))
    return [failure["itemIdentifier"] for failure in answer["batchItemFailures"]]


def counters(api: Api, artist: Artist, visual_id: str) -> dict[str, int]:
    return studio_visual(api, artist.user_id, visual_id)["metrics"]


@pytest.fixture
def visual(api: Api, artist: Artist) -> str:
    """The aggregator counts on any visual that exists; a PROCESSING one needs no upload."""
    return str(start_visual(api, artist.user_id, artist.track_id)["visual"]["id"])


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, str]]:
    """Every counter transaction the aggregator attempts: (visual id, events in it, outcome)."""
    from casset.data import metrics as metrics_data

    seen: list[tuple[str, int, str]] = []
    real = metrics_data.add_to_counters

    def spy(write: Any, marker_expires: datetime) -> Any:
        result = real(write, marker_expires)
        seen.append((write.visual_id, len(write.events), result.outcome.value))
        return result

    monkeypatch.setattr(metrics_data, "add_to_counters", spy)
    return seen


# Folding


def test_a_batch_is_one_counter_write_per_visual(api: Api, artist: Artist, writes: list) -> None:
    first, second = (start_visual(api, artist.user_id, artist.track_id)["visual"]["id"] for _ in range(2))
    batch = [event(first, "impression") for _ in range(3)] + [event(first, "share"), event(second, "export")]

    assert deliver(records(batch)) == []

    assert sorted(writes) == sorted([(first, 4, "APPLIED"), (second, 1, "APPLIED")])
    assert counters(api, artist, first) == {"impressions": 3, "pairings": 0, "exports": 0, "shares": 1}
    assert counters(api, artist, second)["exports"] == 1


def test_a_hot_visual_takes_a_full_batch_in_one_write(
    api: Api, artist: Artist, visual: str, writes: list
) -> None:
    assert deliver(records([event(visual) for _ in range(99)])) == []

    assert writes == [(visual, 99, "APPLIED")]
    assert counters(api, artist, visual)["pairings"] == 99


def test_more_events_than_one_transaction_holds_are_cut_and_all_counted(
    api: Api, artist: Artist, visual: str, writes: list
) -> None:
    assert deliver(records([event(visual) for _ in range(150)])) == []

    assert [size for _, size, _ in writes] == [99, 51]
    assert counters(api, artist, visual)["pairings"] == 150


def test_uncounted_impressions_are_not_added(api: Api, artist: Artist, visual: str) -> None:
    batch = [event(visual, "impression"), event(visual, "impression", counted=False)]

    assert deliver(records(batch)) == []

    assert counters(api, artist, visual)["impressions"] == 1


# Exactly once under at-least-once delivery


def test_a_redelivered_batch_counts_once(api: Api, artist: Artist, visual: str) -> None:
    batch = records([event(visual, "share") for _ in range(4)])
    assert deliver(batch) == []

    assert deliver(batch) == []  # the function crashed before SQS deleted the messages

    assert counters(api, artist, visual)["shares"] == 4


def test_a_batch_mixing_counted_and_new_events_counts_only_the_new(
    api: Api, artist: Artist, visual: str, writes: list
) -> None:
    old = [event(visual, "export") for _ in range(2)]
    deliver(records(old))
    new = [event(visual, "export") for _ in range(3)]

    assert deliver(records([old[0], new[0], old[1], *new[1:]])) == []

    assert counters(api, artist, visual)["exports"] == 5
    # The second batch: cancelled on the two markers that existed, then written without them.
    assert writes[1:] == [(visual, 5, "ALREADY_COUNTED"), (visual, 3, "APPLIED")]


def test_a_message_delivered_twice_in_one_batch_counts_once(api: Api, artist: Artist, visual: str) -> None:
    twice = event(visual)

    assert deliver([record(twice.wire()), record(twice.wire()), record(event(visual).wire())]) == []

    assert counters(api, artist, visual)["pairings"] == 2


def test_a_write_that_keeps_conflicting_goes_back_to_the_queue_and_counts_once_later(
    api: Api, artist: Artist, visual: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import metrics as metrics_data
    from casset.services import metrics as metrics_service

    other = start_visual(api, artist.user_id, artist.track_id)["visual"]["id"]
    stuck = records([event(visual), event(visual)])
    fine = records([event(other)])
    real = metrics_data.add_to_counters

    def conflicting(write: Any, marker_expires: datetime) -> Any:
        if write.visual_id == visual:
            return metrics_data.WriteResult(metrics_data.WriteOutcome.RETRY)
        return real(write, marker_expires)

    monkeypatch.setattr(metrics_data, "add_to_counters", conflicting)
    monkeypatch.setattr(metrics_service.time, "sleep", lambda _: None)

    assert sorted(deliver(stuck + fine)) == sorted(r["messageId"] for r in stuck)
    assert counters(api, artist, visual)["pairings"] == 0
    assert counters(api, artist, other)["pairings"] == 1

    monkeypatch.setattr(metrics_data, "add_to_counters", real)
    assert deliver(stuck) == []
    assert deliver(stuck) == []
    assert counters(api, artist, visual)["pairings"] == 2


def test_events_of_a_visual_that_is_gone_are_dropped_without_making_it(api: Api, writes: list) -> None:
    gone = new_id()

    assert deliver(records([event(gone), event(gone, "share")])) == []

    assert writes == [(gone, 2, "VISUAL_GONE")]
    assert visual_item(gone) is None


def test_events_older_than_their_markers_would_last_are_not_counted(
    api: Api, artist: Artist, visual: str
) -> None:
    from casset.settings import get_settings

    old = utcnow() - timedelta(days=get_settings().metric_event_max_age_days, minutes=1)

    assert deliver(records([event(visual, occurred_at=old), event(visual)])) == []

    assert counters(api, artist, visual)["pairings"] == 1


def test_an_unreadable_message_goes_back_and_the_rest_count(api: Api, artist: Artist, visual: str) -> None:
    broken = record('{"eventId": "x", "type": "click"}')

    assert deliver([broken, *records([event(visual)])]) == [broken["messageId"]]

    assert counters(api, artist, visual)["pairings"] == 1


# The analytics bus


@pytest.fixture
def analytics() -> Any:
    """A consumer of the bus, as an analytics pipeline would subscribe: a rule on source casset.visuals
    sending to an SQS queue. Returns a function that reads what has arrived, by eventId."""
    events, sqs = boto3.client("events"), boto3.client("sqs")
    name = fresh("analytics-")
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = os.environ["METRICS_EVENT_BUS"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["casset.visuals"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def received() -> dict[str, dict]:
        return read_queue(queue_url)

    yield received
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=name, EventBusName=bus)


def read_queue(queue_url: str) -> dict[str, dict]:
    sqs, found = boto3.client("sqs"), {}
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            envelope = json.loads(message["Body"])
            found[envelope["detail"]["eventId"]] = envelope
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_every_accepted_event_reaches_the_bus(api: Api, artist: Artist, media: Media, analytics: Any) -> None:
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)["id"]
    fan = fresh("fan-")
    first = fire(visual, "impression")[1]
    repeat = fire(visual, "impression")[1]
    share = fire(visual, "share", user=fan)[1]

    arrived = analytics()

    assert set(arrived) == {first["eventId"], repeat["eventId"], share["eventId"]}
    for envelope in arrived.values():
        assert envelope["source"] == "casset.visuals" and envelope["detail-type"] == "VisualEvent"
    detail = arrived[share["eventId"]]["detail"]
    assert set(detail) == {"eventId", "visualId", "trackId", "type", "viewer", "counted", "occurredAt"}
    assert (detail["visualId"], detail["trackId"], detail["type"]) == (visual, artist.track_id, "share")
    assert detail["viewer"] == f"user:{fan}" and detail["counted"] is True
    # The repeated impression is there for analytics, marked as not counted, from the same hashed viewer.
    assert arrived[repeat["eventId"]]["detail"]["counted"] is False
    assert arrived[first["eventId"]]["detail"]["viewer"] == arrived[repeat["eventId"]]["detail"]["viewer"]
    assert arrived[first["eventId"]]["detail"]["viewer"].startswith("anon:")


def test_refused_events_never_reach_the_bus(api: Api, visual: str, analytics: Any) -> None:
    fire(visual, "impression")  # PROCESSING: 404
    fire("0" * 26, "share")

    assert analytics() == {}


def test_entries_the_bus_refuses_come_back_without_counting_twice(
    api: Api, artist: Artist, visual: str, analytics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import metrics as metrics_data

    refused, taken = event(visual, "share"), event(visual, "share")
    real_client = metrics_data._events()

    class RefusesTheFirstEntry:
        def put_events(self, Entries: list[dict]) -> dict:
            answer = real_client.put_events(Entries=Entries[1:])
            return {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}, *answer["Entries"]]}

    batch = records([refused, taken])
    monkeypatch.setattr(metrics_data, "_events", lambda: RefusesTheFirstEntry())
    assert deliver(batch) == [batch[0]["messageId"]]
    assert counters(api, artist, visual)["shares"] == 2
    assert set(analytics()) == {taken.event_id}

    monkeypatch.setattr(metrics_data, "_events", lambda: real_client)
    assert deliver(batch[:1]) == []  # SQS redelivers the refused one

    assert counters(api, artist, visual)["shares"] == 2
    assert set(analytics()) == {refused.event_id}


def test_the_local_stack_taps_the_bus_for_developers(api: Api, artist: Artist, media: Media) -> None:
    """make dev's stand-in for analytics: a rule on the local bus copies every event to a tap queue."""
    from infra.local.provision import tap_queue

    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)["id"]
    accepted = fire(visual, "share", ip="198.51.100.250")[1]
    tap_url = boto3.client("sqs").get_queue_url(QueueName=tap_queue(os.environ["METRICS_EVENT_BUS"]))[
        "QueueUrl"
    ]

    assert accepted["eventId"] in read_queue(tap_url)
