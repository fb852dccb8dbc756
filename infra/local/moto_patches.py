"""moto's gaps for this stack, patched in one place. Checked against the pinned moto version.

`patch_moto(plan, asynchronous=...)` applies every patch below and returns a function that undoes them;
the tests' moto fixtures (the in-process `mock_aws`) and `make dev` (the moto server) both call it.

- Lambda: moto runs functions in Docker, which we do not have. Invocations (S3 notifications, SQS event
  source mappings, EventBridge targets, Invoke) call our real handler in this process instead,
  asynchronously like an S3-triggered Lambda, or inline when a test wants determinism. Each function
  takes one event at a time (infra/local/functions.py), and asynchronous events queue per function, so a
  long render never holds up a probe.
- DynamoDB atomicity: moto checks a write's condition and then writes, with nothing in between to stop
  another request (50 concurrent claims of one new key let 2-3 through), applies a TransactWriteItems
  item by item and rolls it back by restoring whole-table snapshots (erasing other requests' writes), and
  updates items in place. DynamoDB runs each request atomically: here every DynamoDB request runs under
  one lock.
- DynamoDB numbers: DynamoDB refuses a number with more than 38 significant digits, magnitude 1e126 or
  more, or non-zero magnitude under 1e-130, anywhere in a write (PutItem, UpdateItem values, ADD and
  arithmetic results, DeleteItem, TransactWriteItems, BatchWriteItem), with a ValidationException
  ("Number overflow" / "Number underflow" / "... more than 38 significant digits"). moto checks
  PutItem's range in floating point only, and stores whatever UpdateItem computes.
- S3 presigned POST: moto stores any form POST whatever its policy says. Here the local S3 checks it as
  S3 does: the SigV4 signature over the policy with the stack's credentials (AWS_ACCESS_KEY_ID /
  AWS_SECRET_ACCESS_KEY, what the functions sign with), the expiry, every condition (exact match,
  starts-with, content-length-range) and no form field the policy does not name; refusals are S3's XML
  errors (403 AccessDenied / SignatureDoesNotMatch / InvalidAccessKeyId, 400 EntityTooSmall /
  EntityTooLarge / InvalidPolicyDocument / InvalidArgument).
- Lambda destinations: moto ignores EventInvokeConfig. A function that has one (only asynchronously
  invoked functions do in this template) is retried MaximumRetryAttempts times on an error, then the
  event goes to its on-failure SQS queue as Lambda's destination record.
- S3 DeleteObjectTagging on a key that does not exist: moto crashes (AttributeError, a 500 through the
  whole stack); S3 answers 404 NoSuchKey. Here it answers NoSuchKey.
"""

import base64
import binascii
import copy
import hashlib
import hmac
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib.metadata import version
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

import boto3
from moto.awslambda.models import LambdaFunction
from moto.dynamodb.exceptions import MockValidationException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler
from moto.s3.exceptions import MissingKey
from moto.s3.models import S3Backend
from moto.s3.responses import S3Response

from infra.local.blueprint import ACCOUNT_ID, REGION, Blueprint, FunctionSpec
from infra.local.functions import invoke

PINNED_MOTO = "5.2."
logger = logging.getLogger("casset.local")

_original_invoke_lambda = LambdaFunction._invoke_lambda
_pending: set[Future] = set()
_pending_lock = threading.Lock()

Undo = Callable[[], None]


def _check_version() -> None:
    installed = version("moto")
    if not installed.startswith(PINNED_MOTO):
        raise RuntimeError(
            f"moto_patches targets moto {PINNED_MOTO}x; found {installed}. Re-check the patches."
        )


def patch_moto(plan: Blueprint, *, asynchronous: bool) -> Undo:
    """Every patch in this module; returns a function that undoes them all."""
    _check_version()
    undos = [
        run_handlers_in_process(plan, asynchronous=asynchronous),
        make_dynamodb_requests_atomic(),
        enforce_dynamodb_number_limits(),
        enforce_presigned_post_policies(),
        answer_missing_keys_on_tagging(),
    ]

    def undo() -> None:
        for step in reversed(undos):
            step()

    return undo


def _replace(owner: type, replacements: dict[str, Callable[..., Any]]) -> Undo:
    originals = {name: owner.__dict__[name] for name in replacements}
    for name, replacement in replacements.items():
        setattr(owner, name, replacement)

    def undo() -> None:
        for name, original in originals.items():
            setattr(owner, name, original)

    return undo


# Lambda


def run_handlers_in_process(plan: Blueprint, *, asynchronous: bool) -> Undo:
    """Route moto's Lambda invocations to the template's handlers. Returns a function that undoes it."""
    _check_version()
    by_name = {f"casset-local-{logical_id}": spec for logical_id, spec in plan.functions.items()}
    # One queue per function: its events wait for its environment, never for another function's.
    executors: dict[str, ThreadPoolExecutor] = {}
    executors_lock = threading.Lock()

    def executor_of(spec: FunctionSpec) -> ThreadPoolExecutor:
        with executors_lock:
            if spec.logical_id not in executors:
                executors[spec.logical_id] = ThreadPoolExecutor(1, thread_name_prefix=spec.logical_id)
            return executors[spec.logical_id]

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        spec = by_name.get(self.function_name)
        if spec is None:
            return _original_invoke_lambda(self, event)
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        if not asynchronous:
            return _run(spec, payload)
        future = executor_of(spec).submit(_run, spec, payload)
        with _pending_lock:
            _pending.add(future)
        future.add_done_callback(lambda done: _discard(done))
        return "", False, ""

    undo_invoke = _replace(LambdaFunction, {"_invoke_lambda": _invoke_lambda})

    def undo() -> None:
        undo_invoke()
        with executors_lock:
            running = list(executors.values())
        for executor in running:
            executor.shutdown(wait=True)

    return undo


def _run(spec: FunctionSpec, payload: dict) -> tuple[str, bool, str]:
    attempts = 1 + spec.max_retry_attempts if spec.on_failure_queue else 1
    for _ in range(attempts):
        try:
            result = invoke(spec, payload)
            return json.dumps(result, default=str), False, ""
        except Exception as error:
            logger.exception("%s failed", spec.logical_id)
            failure = {"errorMessage": str(error), "errorType": type(error).__name__}
    if spec.on_failure_queue:
        _send_to_destination(spec, payload, failure, attempts)
    return json.dumps(failure), True, failure["errorMessage"]


def _send_to_destination(spec: FunctionSpec, payload: dict, failure: dict[str, str], attempts: int) -> None:
    """What Lambda sends an on-failure destination after the last retry of an asynchronous invocation."""
    function = f"casset-local-{spec.logical_id}"
    record = {
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat(),
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": failure,
    }
    boto3.client("sqs").send_message(QueueUrl=spec.on_failure_queue, MessageBody=json.dumps(record))


def _discard(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_invocations(timeout_sec: float = 60.0) -> None:
    """Block until background invocations finish (tests and a clean shutdown use it)."""
    with _pending_lock:
        pending = list(_pending)
    for future in pending:
        future.result(timeout=timeout_sec)


# DynamoDB: one request at a time

_dynamodb_request = threading.RLock()


def make_dynamodb_requests_atomic() -> Undo:
    original = DynamoHandler.__dict__["call_action"]

    def call_action(self: DynamoHandler) -> Any:
        with _dynamodb_request:
            return original(self)

    return _replace(DynamoHandler, {"call_action": call_action})


# DynamoDB: the numbers DynamoDB can store

MAX_SIGNIFICANT_DIGITS = 38
MAX_ADJUSTED_EXPONENT = 125  # 9.99...e125 is the largest magnitude
MIN_ADJUSTED_EXPONENT = -130  # 1e-130 is the smallest non-zero magnitude
_WRITE_ACTIONS = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


def check_number(text: str) -> None:
    """Raise DynamoDB's ValidationException for a number it cannot store."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or text != text.strip() or "_" in text:  # Decimal takes "1_000"
        raise MockValidationException(f"The parameter cannot be converted to a numeric value: {text}")
    if number.is_zero():
        return
    if number.adjusted() > MAX_ADJUSTED_EXPONENT:
        raise MockValidationException(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if number.adjusted() < MIN_ADJUSTED_EXPONENT:
        raise MockValidationException(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    digits = "".join(map(str, number.as_tuple().digits)).strip("0")
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        raise MockValidationException("Attempting to store more than 38 significant digits in a Number")


def numbers_in(value: Any) -> Iterator[str]:
    """Every N and NS member of the AttributeValues anywhere in a request or an item."""
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == "N" and isinstance(inner, str):
                yield inner
            elif name == "NS" and isinstance(inner, list):
                yield from (member for member in inner if isinstance(member, str))
            else:
                yield from numbers_in(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from numbers_in(inner)


def enforce_dynamodb_number_limits() -> Undo:
    """Check every number a write request carries, and every number an update computes."""

    def checking(original: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        def action(self: DynamoHandler) -> Any:
            for text in numbers_in(self.body):
                check_number(text)
            return original(self)

        return action

    original_update = DynamoDBBackend.__dict__["update_item"]

    def update_item(
        self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        # moto updates the stored item in place; a refused result must leave it as it was.
        table = self.get_table(table_name)
        try:
            before = copy.deepcopy(table.get_item(*self.get_keys_value(table, key)))
        except MockValidationException:  # a malformed key: moto's own update answers it
            return original_update(self, table_name, key, *args, **kwargs)
        item = original_update(self, table_name, key, *args, **kwargs)
        try:
            for text in numbers_in(item.to_json()["Attributes"]):
                check_number(text)
        except MockValidationException:
            if before is None:
                table.delete_item(*self.get_keys_value(table, key))
            else:
                item.attrs = before.attrs
            raise
        return item

    undo_handler = _replace(
        DynamoHandler, {name: checking(DynamoHandler.__dict__[name]) for name in _WRITE_ACTIONS}
    )
    undo_backend = _replace(DynamoDBBackend, {"update_item": update_item})

    def undo() -> None:
        undo_backend()
        undo_handler()

    return undo


# S3: presigned POST policies

_NOT_IN_POLICY = {"policy", "x-amz-signature", "file"}
_SIGV4 = "AWS4-HMAC-SHA256"


class PolicyRefusal(Exception):
    """What S3 answers to a POST its policy does not allow."""

    def __init__(self, status: int, code: str, message: str, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details

    def response(self) -> tuple[int, dict[str, str], str]:
        extra = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in self.details.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{escape(self.message)}</Message>{extra}"
            f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>local</HostId></Error>"
        )
        return self.status, {"Content-Type": "application/xml"}, body


def _denied(message: str) -> PolicyRefusal:
    return PolicyRefusal(403, "AccessDenied", message)


def _failed(operator: str, field: str, expected: Any) -> PolicyRefusal:
    shown = json.dumps([operator, f"${field}", expected])
    return _denied(f"Invalid according to Policy: Policy Condition failed: {shown}")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _verify_signature(fields: dict[str, str]) -> None:
    if fields.get("x-amz-algorithm") != _SIGV4:
        raise _denied("Only AWS4-HMAC-SHA256 POST policies are accepted.")
    scope = fields.get("x-amz-credential", "").split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise PolicyRefusal(400, "InvalidArgument", "Invalid x-amz-credential: malformed credential scope.")
    access_key, date, region, service, _ = scope
    if access_key != os.environ.get("AWS_ACCESS_KEY_ID"):
        raise PolicyRefusal(
            403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        )
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    expected = hmac.new(
        _signing_key(secret, date, region, service), fields["policy"].encode(), hashlib.sha256
    )
    if not hmac.compare_digest(expected.hexdigest(), fields["x-amz-signature"]):
        raise PolicyRefusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )


def _policy_document(encoded: str) -> dict[str, Any]:
    try:
        document = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError) as error:
        raise PolicyRefusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from error
    if not isinstance(document, dict) or not isinstance(document.get("conditions"), list):
        raise PolicyRefusal(400, "InvalidPolicyDocument", "Invalid Policy: Policy missing conditions.")
    try:
        expires = datetime.fromisoformat(str(document["expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as error:
        raise PolicyRefusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid expiration.") from error
    if expires.tzinfo is None or expires <= datetime.now(UTC):
        raise _denied("Invalid according to Policy: Policy expired.")
    return document


def _check_conditions(conditions: list[Any], fields: dict[str, str], bucket: str, size: int) -> None:
    named: set[str] = set()
    length_range: tuple[int, int] | None = None
    for condition in conditions:
        if isinstance(condition, dict) and len(condition) == 1:
            [(name, expected)] = condition.items()
            operator, field = "eq", name
        elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
            operator = condition[0].lower()
            if operator == "content-length-range":
                length_range = (int(condition[1]), int(condition[2]))
                continue
            field, expected = str(condition[1]).removeprefix("$"), condition[2]
        else:
            raise PolicyRefusal(
                400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition}."
            )
        if operator not in {"eq", "starts-with"}:
            raise PolicyRefusal(
                400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition}."
            )
        named.add(field.lower())
        actual = bucket if field.lower() == "bucket" else fields.get(field.lower())
        if actual is None or (operator == "eq" and actual != expected):
            raise _failed(operator, field, expected)
        if operator == "starts-with" and not actual.startswith(str(expected)):
            raise _failed(operator, field, expected)
    extra = sorted(
        name for name in fields if name not in named | _NOT_IN_POLICY and not name.startswith("x-ignore-")
    )
    if extra:
        raise _denied(f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    if length_range is not None:
        low, high = length_range
        if size < low:
            raise PolicyRefusal(
                400,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed size",
                ProposedSize=size,
                MinSizeAllowed=low,
            )
        if size > high:
            raise PolicyRefusal(
                400,
                "EntityTooLarge",
                "Your proposed upload exceeds the maximum allowed size",
                ProposedSize=size,
                MaxSizeAllowed=high,
            )


def check_post_policy(fields: dict[str, str], bucket: str, size: int) -> None:
    """Raise PolicyRefusal unless S3 would accept this form POST (field names lower-cased, `key` with
    ${filename} already substituted, `size` the file's bytes)."""
    if "policy" not in fields or "x-amz-signature" not in fields:
        raise _denied("Access Denied")  # the bucket is private: an unsigned POST is anonymous
    _verify_signature(fields)
    document = _policy_document(fields["policy"])
    _check_conditions(document["conditions"], fields, bucket, size)


def enforce_presigned_post_policies() -> Undo:
    original = S3Response.__dict__["_bucket_response_post"]

    def _bucket_response_post(self: S3Response, request: Any, bucket_name: str) -> Any:
        path = self._get_path(request)
        if "delete" in parse_qs(urlparse(path).query, keep_blank_values=True):
            return original(self, request, bucket_name)
        if not request.headers.get("Content-Length"):
            return original(self, request, bucket_name)  # moto answers 411 itself
        fields: dict[str, str] = {}
        for name, value in self.form_data.items():
            fields.setdefault(name.lower(), value)
        body = self.body if isinstance(self.body, bytes) else str(self.body).encode()
        try:
            if "key" not in fields:
                raise PolicyRefusal(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
            if "file" not in request.files and "file" not in fields:
                raise PolicyRefusal(
                    400, "InvalidArgument", "POST requires exactly one file upload per request."
                )
            fields["key"] = self.querystring["key"][0]  # ${filename} substituted, as S3 checks it
            check_post_policy(fields, bucket_name, len(body))
        except PolicyRefusal as refusal:
            return refusal.response()
        return original(self, request, bucket_name)

    return _replace(S3Response, {"_bucket_response_post": _bucket_response_post})


def answer_missing_keys_on_tagging() -> Undo:
    """S3's NoSuchKey for DeleteObjectTagging of a missing key, instead of moto's AttributeError."""
    original = S3Backend.delete_object_tagging

    def delete_object_tagging(
        self: S3Backend, bucket_name: str, key_name: str, version_id: str | None = None
    ) -> None:
        if self.get_object(bucket_name, key_name, version_id=version_id) is None:
            raise MissingKey(key=key_name)
        original(self, bucket_name, key_name, version_id=version_id)

    return _replace(S3Backend, {"delete_object_tagging": delete_object_tagging})
