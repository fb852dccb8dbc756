"""Visual metrics rules without AWS: who the viewer is, how a batch folds into counter writes, and the
retention figures that keep counting exact (the template's queues against the settings)."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from casset.metric_rules import (
    COUNTER_OF,
    MAX_EVENTS_PER_WRITE,
    CounterWrite,
    VisualEvent,
    VisualEventType,
    plan_writes,
    salt_day,
    tally,
    too_old,
    viewer_of,
)
from casset.settings import Settings
from infra.translate import load_template

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
IMPRESSION, PAIRING, EXPORT, SHARE = (
    VisualEventType.IMPRESSION,
    VisualEventType.PAIRING,
    VisualEventType.EXPORT,
    VisualEventType.SHARE,
)


def event(
    event_id: str, visual_id: str = "v1", kind: VisualEventType = PAIRING, *, counted: bool = True
) -> VisualEvent:
    return VisualEvent(
        event_id=event_id,
        visual_id=visual_id,
        track_id="t1",
        type=kind,
        viewer="user:fan",
        counted=counted,
        occurred_at=NOW,
    )


# Viewers


def test_a_signed_in_viewer_is_their_user_whatever_their_address() -> None:
    assert viewer_of("fan-1", "203.0.113.7", "Firefox", "salt") == "user:fan-1"
    assert viewer_of("fan-1", "198.51.100.2", "Safari", "other salt") == "user:fan-1"


def test_an_anonymous_viewer_is_a_keyed_hash_that_never_contains_the_address() -> None:
    viewer = viewer_of(None, "203.0.113.7", "Firefox", "salt")

    assert viewer.startswith("anon:") and len(viewer) == len("anon:") + 32
    assert "203.0.113.7" not in viewer and "Firefox" not in viewer
    assert viewer == viewer_of(None, "203.0.113.7", "Firefox", "salt")  # stable within a salt


@pytest.mark.parametrize(
    ("ip", "agent", "salt"),
    [
        ("203.0.113.8", "Firefox", "salt"),
        ("203.0.113.7", "Safari", "salt"),
        ("203.0.113.7", "Firefox", "next"),
    ],
    ids=["other address", "other browser", "next day's salt"],
)
def test_address_browser_and_salt_each_make_a_different_viewer(ip: str, agent: str, salt: str) -> None:
    assert viewer_of(None, ip, agent, salt) != viewer_of(None, "203.0.113.7", "Firefox", "salt")


def test_address_and_browser_cannot_be_shifted_into_each_other() -> None:
    assert viewer_of(None, "1.2.3.4", "5 agent", "s") != viewer_of(None, "1.2.3.45", " agent", "s")


def test_the_salt_changes_at_midnight_utc() -> None:
    assert salt_day(datetime(2026, 11, 22, 23, 59, tzinfo=UTC)) == "2026-11-22"
    assert salt_day(datetime(2026, 11, 23, 0, 0, tzinfo=UTC)) == "2026-11-23"


# The wire format


def test_an_event_travels_in_camel_case_and_comes_back_equal() -> None:
    original = event("e1", kind=SHARE)
    wire = original.wire()

    assert '"eventId":"e1"' in wire and '"occurredAt"' in wire and '"type":"share"' in wire
    assert VisualEvent.model_validate_json(wire) == original


def test_an_unknown_event_type_does_not_parse() -> None:
    wire = event("e1").wire().replace('"pairing"', '"click"')
    with pytest.raises(ValidationError):
        VisualEvent.model_validate_json(wire)


def test_every_type_has_its_own_counter_on_the_visual() -> None:
    from casset.data.tables import VisualItem

    assert set(COUNTER_OF) == set(VisualEventType)
    assert len(set(COUNTER_OF.values())) == len(VisualEventType)
    for counter in COUNTER_OF.values():
        assert counter in VisualItem.get_attributes()


# Folding a batch


def test_a_batch_on_one_visual_is_one_write_with_every_increment() -> None:
    batch = [event("a", kind=IMPRESSION), event("b", kind=IMPRESSION), event("c"), event("d", kind=SHARE)]

    (write,) = plan_writes(batch)

    assert write.visual_id == "v1" and write.event_ids == ("a", "b", "c", "d")
    assert write.increments == {"impressions": 2, "pairings": 1, "shares": 1}


def test_each_visual_gets_its_own_write() -> None:
    writes = plan_writes([event("a", "v1"), event("b", "v2"), event("c", "v1")])

    assert {(w.visual_id, w.event_ids) for w in writes} == {("v1", ("a", "c")), ("v2", ("b",))}


def test_events_that_do_not_count_are_left_out_of_the_writes() -> None:
    writes = plan_writes([event("a", kind=IMPRESSION, counted=False), event("b", "v2", kind=EXPORT)])

    assert [(w.visual_id, w.event_ids, w.increments) for w in writes] == [("v2", ("b",), {"exports": 1})]


def test_an_event_delivered_twice_in_one_batch_is_written_once() -> None:
    (write,) = plan_writes([event("a"), event("a"), event("b")])

    assert write.event_ids == ("a", "b") and write.increments == {"pairings": 2}


def test_a_hot_visual_is_cut_into_writes_that_fit_one_transaction() -> None:
    batch = [event(f"e{i:03}") for i in range(2 * MAX_EVENTS_PER_WRITE + 1)]

    writes = plan_writes(batch)

    assert [len(w.events) for w in writes] == [MAX_EVENTS_PER_WRITE, MAX_EVENTS_PER_WRITE, 1]
    assert MAX_EVENTS_PER_WRITE + 1 <= 100  # markers plus the counter update: DynamoDB's transaction limit
    assert [e for w in writes for e in w.event_ids] == [e.event_id for e in batch]


def test_dropping_already_counted_events_recomputes_the_increments() -> None:
    write = CounterWrite("v1", (event("a"), event("b", kind=SHARE), event("c", kind=SHARE)))

    rest = write.without({"b"})

    assert rest.event_ids == ("a", "c") and rest.increments == {"pairings": 1, "shares": 1}
    assert write.without({"a", "b", "c"}).events == ()


def test_tally_ignores_uncounted_events() -> None:
    assert tally([event("a", kind=IMPRESSION, counted=False), event("b", kind=IMPRESSION)]) == {
        "impressions": 1
    }


# Exactness over time


def test_an_event_older_than_the_markers_last_is_too_old_to_count() -> None:
    max_age = timedelta(days=14)
    assert not too_old(event("a"), NOW + max_age, max_age)
    assert too_old(event("a"), NOW + max_age + timedelta(seconds=1), max_age)


def test_no_message_can_outlive_the_age_after_which_events_stop_counting() -> None:
    """A redelivered event is recognised by its marker, which lives max_age (+1 h) from the batch that
    wrote it; the aggregator drops events older than max_age. That only holds if SQS never hands out a
    message older than max_age: its retention, and the dead-letter queue's, must not exceed it."""
    resources = load_template()["Resources"]
    max_age_sec = Settings().metric_event_max_age_days * 86400
    queue = resources["MetricsQueue"]["Properties"]
    dead_letters = resources["MetricsDeadLetterQueue"]["Properties"]

    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["MetricsDeadLetterQueue", "Arn"]}
    assert queue["MessageRetentionPeriod"] <= max_age_sec
    assert dead_letters["MessageRetentionPeriod"] <= max_age_sec


def test_the_aggregators_batch_fills_one_transaction_and_reports_partial_failures() -> None:
    function = load_template()["Resources"]["MetricsAggregatorFunction"]["Properties"]
    (source,) = function["Events"].values()

    assert source["Type"] == "SQS"
    assert source["Properties"]["BatchSize"] == MAX_EVENTS_PER_WRITE
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Lambda's recommendation: the queue hides a message for six times the function's timeout.
    visibility = load_template()["Resources"]["MetricsQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * function["Timeout"]
