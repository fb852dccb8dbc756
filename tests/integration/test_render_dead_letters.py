"""A render message that exhausted its deliveries reaches the dead-letter queue; the dead-letter function
(run by moto's event source mapping, inline) ends its export FAILED so pollers stop waiting."""

import json
from typing import Any

import boto3
import pytest

from casset.data import exports as exports_data
from casset.entities import RenderPlan
from casset.ids import new_id
from infra.local.functions import LambdaContext
from render_dead_letters.handler import lambda_handler
from tests.conftest import Api
from tests.integration.support import fresh


def dead_letter_queue_url(plan: Any) -> str:
    (queue,) = [queue for queue in plan.queues if queue.logical_id == "RenderDeadLetterQueue"]
    return str(boto3.client("sqs").get_queue_url(QueueName=queue.name)["QueueUrl"])


def queued_export() -> str:
    plan = RenderPlan(
        renderer_version="test",
        track_id=fresh("t"),
        audio_key="tracks/t/audio/a.wav",
        hook_start_sec=0,
        hook_duration_sec=5,
        title="Stuck",
        artist="Someone",
        preset="low",
    )
    export_id = new_id()
    exports_data.create_export(export_id, plan, "a-fan")
    assert exports_data.claim(export_id) is not None  # RENDERING, as a render that then died would leave it
    return export_id


def test_an_export_whose_message_died_ends_failed_with_a_reason(api: Api, aws: Any) -> None:
    export_id = queued_export()

    boto3.client("sqs").send_message(
        QueueUrl=dead_letter_queue_url(aws), MessageBody=json.dumps({"exportId": export_id})
    )

    status, job, _ = api("GET", f"/api/exports/{export_id}", user="a-fan")
    assert status == 200
    assert (job["status"], job["failureReason"]) == ("FAILED", "RENDER_RETRIES_EXHAUSTED")
    assert "ask for the export again" in job["failureMessage"]


def test_a_finished_export_is_left_alone(aws: Any) -> None:
    export_id = queued_export()
    assert exports_data.fail(export_id, "CORRUPT_INPUT", "bad audio")

    boto3.client("sqs").send_message(
        QueueUrl=dead_letter_queue_url(aws), MessageBody=json.dumps({"exportId": export_id})
    )

    job = exports_data.get_export(export_id)
    assert job is not None and (job.failure_reason, job.failure_message) == ("CORRUPT_INPUT", "bad audio")


@pytest.mark.parametrize("body", ["not json", "{}", '{"exportId": 7}'])
def test_unreadable_dead_letters_are_dropped_not_retried(aws: Any, body: str) -> None:
    event = {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:dead",
                "awsRegion": "us-east-1",
            }
        ]
    }

    assert lambda_handler(event, LambdaContext("dead-letters", 128, 30)) == {"batchItemFailures": []}
