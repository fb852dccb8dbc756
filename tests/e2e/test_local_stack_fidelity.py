"""The local stack (`make dev`) behaves like AWS where our code relies on it, seen over HTTP: one event
per function environment at a time, presigned POST policies enforced by the local S3, DynamoDB's number
limits in the moto server. tests/integration/test_moto_fidelity.py covers the moto patches in depth."""

import uuid
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from infra.local.tokens import issue

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

USERS = 16


def _call(stack: Any, token: str, method: str, path: str, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.request(method, stack.url + path, json=body, headers=headers, timeout=60)


def _moto(stack: Any, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.moto_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def test_concurrent_profile_updates_each_answer_their_own_user(stack: Any) -> None:
    """Given 16 users with profiles, when all PATCH /api/users/me at once, each gets their own profile."""
    users = [f"fidelity-{uuid.uuid4().hex[:12]}" for _ in range(USERS)]
    tokens = {user: issue(user) for user in users}
    for user in users:
        handle = "h" + user.replace("-", "")[-14:]
        created = _call(
            stack,
            tokens[user],
            "POST",
            "/api/users",
            {"handle": handle, "displayName": "x", "isArtist": False},
        )
        assert created.status_code == 201, created.text
    start = Barrier(USERS, timeout=30)

    def rename(user: str) -> requests.Response:
        start.wait()
        return _call(stack, tokens[user], "PATCH", "/api/users/me", {"displayName": f"name of {user}"})

    with ThreadPoolExecutor(USERS) as pool:
        answers = dict(zip(users, pool.map(rename, users), strict=True))

    assert {user: answer.status_code for user, answer in answers.items()} == dict.fromkeys(users, 200)
    assert {user: answer.json()["id"] for user, answer in answers.items()} == {user: user for user in users}
    assert {user: answer.json()["displayName"] for user, answer in answers.items()} == {
        user: f"name of {user}" for user in users
    }
    for user in users:
        assert _call(stack, tokens[user], "GET", "/api/users/me").json()["displayName"] == f"name of {user}"


def test_the_local_s3_refuses_a_post_outside_the_policy(stack: Any) -> None:
    """An upload target from the API, then the form tampered with: S3 refuses what its policy forbids."""
    token = issue(f"fidelity-{uuid.uuid4().hex[:12]}")
    target = _call(stack, token, "POST", "/api/upload/media", {"contentType": "video/mp4"}).json()

    other_type = requests.post(
        target["url"],
        data={**target["fields"], "Content-Type": "text/html"},
        files={"file": b"<html>"},
        timeout=30,
    )
    empty = requests.post(target["url"], data=target["fields"], files={"file": b""}, timeout=30)

    assert other_type.status_code == 403 and "<Code>AccessDenied</Code>" in other_type.text
    assert empty.status_code == 400 and "<Code>EntityTooSmall</Code>" in empty.text
    with pytest.raises(ClientError):
        s3 = _moto(stack, "s3")
        s3.head_object(Bucket=s3.list_buckets()["Buckets"][0]["Name"], Key=target["key"])


def test_the_moto_server_refuses_an_update_with_a_number_dynamodb_cannot_store(stack: Any) -> None:
    dynamodb = _moto(stack, "dynamodb")
    table = dynamodb.list_tables()["TableNames"][0]
    hash_key = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"][0]["AttributeName"]
    key = {hash_key: {"S": f"number-{uuid.uuid4().hex}"}}

    with pytest.raises(ClientError) as refused:
        dynamodb.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET tiny = :tiny",
            ExpressionAttributeValues={":tiny": {"N": "1e-300"}},
        )

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"].startswith("Number underflow")
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)
