"""moto patched to behave like AWS where our code relies on it (infra/local/moto_patches.py), checked
through boto3 and plain HTTP against the tests' moto: DynamoDB requests are atomic, DynamoDB refuses the
numbers it cannot store, and S3 enforces a presigned POST's policy.

`slow_storage` makes moto's item reads take a millisecond, so that concurrent requests really overlap
inside moto (on an idle machine moto's read-check-write takes microseconds and the GIL hides the race)."""

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.integration.support import Api, bucket, create_profile, fresh, object_exists

CLAIMANTS = 50


def _table() -> str:
    return os.environ["RATE_LIMITS_TABLE"]


def _dynamodb() -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def slow_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    read = Table.get_item

    def slow_read(self: Table, *args: Any, **kwargs: Any) -> Any:
        found = read(self, *args, **kwargs)
        time.sleep(0.001)
        return found

    monkeypatch.setattr(Table, "get_item", slow_read)


def _together(parties: int, attempt: Callable[[int], bool]) -> list[int]:
    """Run attempt(0..parties-1) from as many threads, released at once; the parties that succeeded."""
    start = threading.Barrier(parties, timeout=60)

    def run(party: int) -> bool:
        start.wait()
        return attempt(party)

    with ThreadPoolExecutor(parties) as pool:
        return [party for party, won in enumerate(pool.map(run, range(parties))) if won]


def _refused_code(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


# Atomic requests


@pytest.mark.usefixtures("aws", "slow_storage")
def test_fifty_concurrent_conditional_puts_of_one_new_key_let_exactly_one_through() -> None:
    dynamodb, key = _dynamodb(), fresh("claim-")

    def claim(claimant: int) -> bool:
        try:
            dynamodb.put_item(
                TableName=_table(),
                Item={"key": {"S": key}, "claimant": {"N": str(claimant)}},
                ConditionExpression="attribute_not_exists(#key)",
                ExpressionAttributeNames={"#key": "key"},
            )
        except ClientError as error:
            assert _refused_code(error) == "ConditionalCheckFailedException"
            return False
        return True

    winners = _together(CLAIMANTS, claim)

    assert len(winners) == 1
    stored = dynamodb.get_item(TableName=_table(), Key={"key": {"S": key}}, ConsistentRead=True)["Item"]
    assert stored["claimant"] == {"N": str(winners[0])}


@pytest.mark.usefixtures("aws", "slow_storage")
def test_a_cancelled_transaction_never_erases_a_concurrent_write() -> None:
    dynamodb = _dynamodb()
    taken = fresh("taken-")
    dynamodb.put_item(TableName=_table(), Item={"key": {"S": taken}})
    written = [fresh("written-") for _ in range(10)]

    def transact_or_put(party: int) -> bool:
        if party % 2 == 0:  # a transaction whose condition fails: moto rolls the whole table back
            with pytest.raises(ClientError):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": _table(), "Item": {"key": {"S": fresh("tx-")}}}},
                        {
                            "Put": {
                                "TableName": _table(),
                                "Item": {"key": {"S": taken}},
                                "ConditionExpression": "attribute_not_exists(#key)",
                                "ExpressionAttributeNames": {"#key": "key"},
                            }
                        },
                    ]
                )
            return False
        dynamodb.put_item(TableName=_table(), Item={"key": {"S": written[party // 2]}})
        return True

    _together(20, transact_or_put)

    for key in written:
        assert "Item" in dynamodb.get_item(TableName=_table(), Key={"key": {"S": key}}, ConsistentRead=True)


# Numbers DynamoDB refuses

UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
PRECISION = "Attempting to store more than 38 significant digits in a Number"
REFUSED = [("1e-300", UNDERFLOW), ("-9E-131", UNDERFLOW), ("1e126", OVERFLOW), ("-1E+200", OVERFLOW)]
REFUSED += [("1" * 39, PRECISION), ("0.1234567890123456789012345678901234567891", PRECISION)]
STORED = ["0", "1E-130", "-1e-130", "9.9999999999999999999999999999999999999E+125", "1" * 38, "1" + "0" * 60]


def _refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    assert _refused_code(refused.value) == "ValidationException"
    return str(refused.value.response["Error"]["Message"])


def _stored(key: str) -> dict[str, Any] | None:
    item: dict[str, Any] | None = (
        _dynamodb().get_item(TableName=_table(), Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
    )
    return item


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("number", "message"), REFUSED)
def test_update_item_refuses_a_number_dynamodb_cannot_store(number: str, message: str) -> None:
    key = fresh("n-")
    _dynamodb().put_item(TableName=_table(), Item={"key": {"S": key}, "value": {"N": "1"}})

    def set_value() -> Any:
        return _dynamodb().update_item(
            TableName=_table(),
            Key={"key": {"S": key}},
            UpdateExpression="SET #value = :value",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":value": {"N": number}},
        )

    def add_value() -> Any:
        return _dynamodb().update_item(
            TableName=_table(),
            Key={"key": {"S": key}},
            UpdateExpression="ADD #value :value",
            ExpressionAttributeNames={"#value": "value"},
            ExpressionAttributeValues={":value": {"N": number}},
        )

    assert _refusal(set_value) == message
    assert _refusal(add_value) == message
    assert _stored(key) == {"key": {"S": key}, "value": {"N": "1"}}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("number", "message"), REFUSED)
def test_every_kind_of_write_refuses_a_number_dynamodb_cannot_store(number: str, message: str) -> None:
    dynamodb, key = _dynamodb(), fresh("n-")
    item = {"key": {"S": key}, "nested": {"M": {"list": {"L": [{"NS": ["1", number]}]}}}}

    put = _refusal(lambda: dynamodb.put_item(TableName=_table(), Item=item))
    batch = _refusal(
        lambda: dynamodb.batch_write_item(RequestItems={_table(): [{"PutRequest": {"Item": item}}]})
    )
    transaction = _refusal(
        lambda: dynamodb.transact_write_items(TransactItems=[{"Put": {"TableName": _table(), "Item": item}}])
    )
    new_item = _refusal(
        lambda: dynamodb.update_item(
            TableName=_table(),
            Key={"key": {"S": key}},
            UpdateExpression="SET nested = :nested",
            ExpressionAttributeValues={":nested": item["nested"]},
        )
    )

    assert [put, batch, transaction, new_item] == [message] * 4
    assert _stored(key) is None


@pytest.mark.usefixtures("aws")
def test_an_update_whose_result_dynamodb_cannot_store_changes_nothing() -> None:
    dynamodb, key = _dynamodb(), fresh("n-")
    big = "9" + "0" * 125  # 9e125: storable; twice it is not
    dynamodb.put_item(TableName=_table(), Item={"key": {"S": key}, "total": {"N": big}, "note": {"S": "old"}})

    message = _refusal(
        lambda: dynamodb.update_item(
            TableName=_table(),
            Key={"key": {"S": key}},
            UpdateExpression="SET note = :new ADD #total :big",
            ExpressionAttributeNames={"#total": "total"},
            ExpressionAttributeValues={":new": {"S": "new"}, ":big": {"N": big}},
        )
    )

    assert message == OVERFLOW
    assert _stored(key) == {"key": {"S": key}, "total": {"N": big}, "note": {"S": "old"}}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("number", STORED)
def test_numbers_at_dynamodbs_limits_are_stored(number: str) -> None:
    dynamodb, key = _dynamodb(), fresh("n-")

    dynamodb.update_item(
        TableName=_table(),
        Key={"key": {"S": key}},
        UpdateExpression="SET #value = :value",
        ExpressionAttributeNames={"#value": "value"},
        ExpressionAttributeValues={":value": {"N": number}},
    )

    stored = _stored(key)
    assert stored is not None
    assert float(stored["value"]["N"]) == float(number)


# Presigned POST policies


def _upload_target(api: Api, content_type: str = "video/mp4") -> dict[str, Any]:
    status, body, _ = api(
        "POST", "/api/upload/media", user=create_profile(api), body={"contentType": content_type}
    )
    assert status == 200, body
    return dict(body)


def _post(target: dict[str, Any], data: bytes, **fields: str) -> requests.Response:
    return requests.post(target["url"], data={**target["fields"], **fields}, files={"file": data}, timeout=30)


def _error(response: requests.Response) -> tuple[int, str]:
    code = response.text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in response.text else ""
    return response.status_code, code


def test_an_upload_within_the_policy_lands_with_its_content_type(api: Api) -> None:
    target = _upload_target(api)

    answer = _post(target, b"\x00\x00\x00\x18ftypmp42")

    assert answer.status_code == 204
    stored = boto3.client("s3").head_object(Bucket=bucket(), Key=target["key"])
    assert stored["ContentType"] == "video/mp4" and stored["ContentLength"] == 12


def test_an_upload_outside_the_policy_is_refused_as_s3_refuses_it(api: Api) -> None:
    target = _upload_target(api)
    other_key = target["key"].rsplit("/", 1)[0] + "/other.mp4"

    refusals = {
        "content type": _error(_post(target, b"<html>", **{"Content-Type": "text/html"})),
        "key": _error(_post(target, b"data", key=other_key)),
        "empty file": _error(_post(target, b"")),
        "extra field": _error(_post(target, b"data", **{"x-amz-meta-owner": "someone"})),
        "unsigned": _error(requests.post(target["url"], data={"key": target["key"]}, files={"file": b"x"})),
    }

    assert refusals == {
        "content type": (403, "AccessDenied"),
        "key": (403, "AccessDenied"),
        "empty file": (400, "EntityTooSmall"),
        "extra field": (403, "AccessDenied"),
        "unsigned": (403, "AccessDenied"),
    }
    assert not object_exists(target["key"]) and not object_exists(other_key)


def test_a_policy_edited_after_signing_fails_its_signature(api: Api) -> None:
    target = _upload_target(api)
    policy = json.loads(base64.b64decode(target["fields"]["policy"]))
    policy["conditions"] = [
        c for c in policy["conditions"] if not isinstance(c, dict) or "Content-Type" not in c
    ]
    forged = base64.b64encode(json.dumps(policy).encode()).decode()

    answer = _post(target, b"<html>", policy=forged, **{"Content-Type": "text/html"})

    assert _error(answer) == (403, "SignatureDoesNotMatch")
    assert not object_exists(target["key"])


def test_a_file_over_the_size_limit_is_refused(api: Api, settings_env: Any) -> None:
    settings_env(MAX_UPLOAD_BYTES="64")
    target = _upload_target(api)

    too_large = _post(target, b"x" * 65)
    at_limit = _post(target, b"x" * 64)

    assert _error(too_large) == (400, "EntityTooLarge")
    assert "<MaxSizeAllowed>64</MaxSizeAllowed>" in too_large.text
    assert at_limit.status_code == 204


def test_an_expired_policy_is_refused(api: Api, settings_env: Any) -> None:
    settings_env(UPLOAD_URL_TTL_SEC="1")
    target = _upload_target(api)
    time.sleep(2.1)

    answer = _post(target, b"data")

    assert _error(answer) == (403, "AccessDenied")
    assert "Policy expired" in answer.text
    assert not object_exists(target["key"])


# S3 answers for missing keys


@pytest.mark.usefixtures("aws")
def test_removing_the_tags_of_a_missing_object_is_no_such_key_as_in_s3() -> None:
    s3 = boto3.client("s3")
    with pytest.raises(ClientError) as refused:
        s3.delete_object_tagging(Bucket=bucket(), Key=f"visuals/never-uploaded-{os.urandom(4).hex()}.mp4")
    assert (
        refused.value.response["Error"]["Code"],
        refused.value.response["ResponseMetadata"]["HTTPStatusCode"],
    ) == (
        "NoSuchKey",
        404,
    )
