"""moto's gaps for this stack, patched in one place. Checked against the pinned moto version.

- Lambda: moto runs functions in Docker, which we do not have. Invocations (S3 notifications included)
  call our real handler in this process instead, asynchronously like an S3-triggered Lambda, or inline
  when a test wants determinism.
- Lambda destinations: moto ignores EventInvokeConfig. A function that has one (only asynchronously
  invoked functions do in this template) is retried MaximumRetryAttempts times on an error, then the
  event goes to its on-failure SQS queue as Lambda's destination record.
"""

import json
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction

from infra.local.blueprint import ACCOUNT_ID, REGION, Blueprint
from infra.local.functions import invoke

PINNED_MOTO = "5.2."
logger = logging.getLogger("casset.local")

_original_invoke_lambda = LambdaFunction._invoke_lambda
_pending: set[Future] = set()
_pending_lock = threading.Lock()


def _check_version() -> None:
    installed = version("moto")
    if not installed.startswith(PINNED_MOTO):
        raise RuntimeError(
            f"moto_patches targets moto {PINNED_MOTO}x; found {installed}. Re-check the patches."
        )


def run_handlers_in_process(plan: Blueprint, *, asynchronous: bool) -> Callable[[], None]:
    """Route moto's Lambda invocations to the template's handlers. Returns a function that undoes it."""
    _check_version()
    by_name = {f"casset-local-{logical_id}": spec for logical_id, spec in plan.functions.items()}
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lambda") if asynchronous else None

    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        spec = by_name.get(self.function_name)
        if spec is None:
            return _original_invoke_lambda(self, event)
        payload = json.loads(event) if isinstance(event, str | bytes) else (event or {})
        if executor is None:
            return _run(spec, payload)
        future = executor.submit(_run, spec, payload)
        with _pending_lock:
            _pending.add(future)
        future.add_done_callback(lambda done: _discard(done))
        return "", False, ""

    LambdaFunction._invoke_lambda = _invoke_lambda  # type: ignore[method-assign]

    def undo() -> None:
        LambdaFunction._invoke_lambda = _original_invoke_lambda  # type: ignore[method-assign]
        if executor:
            executor.shutdown(wait=True)

    return undo


def _run(spec: Any, payload: dict) -> tuple[str, bool, str]:
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


def _send_to_destination(spec: Any, payload: dict, failure: dict[str, str], attempts: int) -> None:
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
