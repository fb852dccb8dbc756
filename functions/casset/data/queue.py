"""The render queue through boto3."""

import json
from functools import lru_cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from casset.errors import Unavailable
from casset.settings import get_settings


@lru_cache(maxsize=1)
def _sqs() -> Any:
    return boto3.client("sqs")


def enqueue_render(export_id: str) -> None:
    try:
        _sqs().send_message(
            QueueUrl=get_settings().render_queue_url, MessageBody=json.dumps({"exportId": export_id})
        )
    except ClientError as error:
        raise Unavailable("The render queue is busy; retry shortly.") from error


def parse_render_message(body: str) -> str:
    export_id = json.loads(body)["exportId"]
    if not isinstance(export_id, str):
        raise ValueError("exportId must be a string")
    return export_id


def enqueue_preview(track_id: str) -> None:
    """Ask the preview function to cut the track's hook clip again (its audio or hook changed)."""
    try:
        _sqs().send_message(
            QueueUrl=get_settings().preview_queue_url, MessageBody=json.dumps({"trackId": track_id})
        )
    except ClientError as error:
        raise Unavailable("The preview queue is busy; retry shortly.") from error


def parse_preview_message(body: str) -> str:
    track_id = json.loads(body)["trackId"]
    if not isinstance(track_id, str):
        raise ValueError("trackId must be a string")
    return track_id
