"""make dev's stand-in for the analytics consumers of the EventBridge bus.

provision.py puts a rule on each local bus that copies every event to an SQS tap queue; this follows the
tap: one log line per event in the make dev console, and the whole event appended to a JSON-lines
archive (.local/analytics-events.jsonl) to look at or replay. The production handler does nothing
special locally: it calls PutEvents on the bus the template names, as in AWS."""

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path

import boto3

from infra.local.blueprint import Blueprint
from infra.local.provision import tap_queue

logger = logging.getLogger("casset.local")


def follow(plan: Blueprint, archive: Path) -> Callable[[], None]:
    """Start following every bus's tap in a background thread; returns a function that stops it."""
    stop = threading.Event()
    archive.parent.mkdir(parents=True, exist_ok=True)
    threads = [
        threading.Thread(target=_follow, args=(bus, archive, stop), name=f"tap-{bus}", daemon=True)
        for bus in plan.event_buses
    ]
    for thread in threads:
        thread.start()

    def stop_following() -> None:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)

    return stop_following


def _follow(bus: str, archive: Path, stop: threading.Event) -> None:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=tap_queue(bus))["QueueUrl"]
    while not stop.is_set():
        try:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        except Exception:
            if stop.is_set():  # the moto server went away on shutdown
                return
            logger.exception("analytics tap: cannot read %s", bus)
            stop.wait(1)
            continue
        for message in answer.get("Messages", []):
            envelope = json.loads(message["Body"])
            logger.info(
                "analytics  %s %s %s",
                envelope.get("source"),
                envelope.get("detail-type"),
                json.dumps(envelope.get("detail")),
            )
            with archive.open("a") as lines:
                lines.write(json.dumps(envelope) + "\n")
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
