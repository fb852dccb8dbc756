"""moto's gaps for this stack, patched in one place. Checked against the pinned moto version.

- Lambda: moto runs functions in Docker, which we do not have. Invocations (S3 notifications included)
  call our real handler in this process instead, asynchronously like an S3-triggered Lambda, or inline
  when a test wants determinism.
"""

import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.metadata import version
from typing import Any

from moto.awslambda.models import LambdaFunction

from infra.local.blueprint import Blueprint
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
    try:
        result = invoke(spec, payload)
        return json.dumps(result, default=str), False, ""
    except Exception as error:
        logger.exception("%s failed", spec.logical_id)
        return json.dumps({"errorMessage": str(error), "errorType": type(error).__name__}), True, str(error)


def _discard(future: Future) -> None:
    with _pending_lock:
        _pending.discard(future)


def wait_for_invocations(timeout_sec: float = 60.0) -> None:
    """Block until background invocations finish (tests and a clean shutdown use it)."""
    with _pending_lock:
        pending = list(_pending)
    for future in pending:
        future.result(timeout=timeout_sec)
