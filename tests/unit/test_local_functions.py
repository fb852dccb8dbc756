"""The local stack runs each function like Lambda runs an environment: one event at a time, whoever
invokes it (the gateway, moto's S3/SQS/EventBridge invocations); different functions run side by side."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.local.blueprint import FunctionSpec
from infra.local.functions import invoke


class Occupancy:
    """How many events are inside each function at once, and at most."""

    def __init__(self) -> None:
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self._lock = threading.Lock()

    def enter(self, name: str) -> None:
        with self._lock:
            self.running[name] += 1
            self.most[name] = max(self.most[name], self.running[name])
            self.most["all functions"] = max(self.most["all functions"], self.running.total())

    def leave(self, name: str) -> None:
        with self._lock:
            self.running[name] -= 1


def recording_handler(event: dict[str, Any], context: Any) -> int:
    occupancy: Occupancy = event["occupancy"]
    occupancy.enter(context.function_name)
    time.sleep(0.01)
    occupancy.leave(context.function_name)
    return int(event["n"])


def reentrant_handler(event: dict[str, Any], context: Any) -> Any:
    return invoke(_spec("Reentrant", "reentrant_handler"), event)


def _spec(logical_id: str, handler: str = "recording_handler") -> FunctionSpec:
    return FunctionSpec(logical_id, f"{__name__}.{handler}", "functions/", {}, 3, 128)


def test_one_function_takes_one_event_at_a_time_and_functions_run_side_by_side() -> None:
    occupancy = Occupancy()
    first, second = _spec("First"), _spec("Second")
    calls = [(first if n % 2 else second, n) for n in range(16)]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda call: invoke(call[0], {"n": call[1], "occupancy": occupancy}), calls))

    assert answers == list(range(16))
    assert occupancy.most == {"casset-local-First": 1, "casset-local-Second": 1, "all functions": 2}


def test_a_function_invoking_itself_synchronously_fails_instead_of_deadlocking() -> None:
    with pytest.raises(RuntimeError, match="invoked itself synchronously"):
        invoke(_spec("Reentrant", "reentrant_handler"), {"n": 0})
