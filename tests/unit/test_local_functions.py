"""The local stack runs each function like Lambda runs an environment: one event at a time, whoever
invokes it (the gateway, moto's S3/SQS/EventBridge invocations); functions in different handler modules run
side by side, functions sharing a module (and so its state) take turns."""

import sys
import threading
import time
import types
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


def _spec(logical_id: str, handler: str = "recording_handler", module: str = __name__) -> FunctionSpec:
    return FunctionSpec(logical_id, f"{module}.{handler}", "functions/", {}, 3, 128)


@pytest.fixture
def other_module() -> Any:
    """A second handler module holding the same recording handler."""
    module = types.ModuleType("local_functions_other_module")
    module.recording_handler = recording_handler  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_one_function_takes_one_event_at_a_time_and_functions_run_side_by_side(other_module: str) -> None:
    occupancy = Occupancy()
    first, second = _spec("First"), _spec("Second", module=other_module)
    calls = [(first if n % 2 else second, n) for n in range(16)]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda call: invoke(call[0], {"n": call[1], "occupancy": occupancy}), calls))

    assert answers == list(range(16))
    assert occupancy.most == {"casset-local-First": 1, "casset-local-Second": 1, "all functions": 2}


def test_a_function_invoking_itself_synchronously_fails_instead_of_deadlocking() -> None:
    with pytest.raises(RuntimeError, match="invoked itself synchronously"):
        invoke(_spec("Reentrant", "reentrant_handler"), {"n": 0})


def test_functions_sharing_a_handler_module_take_turns() -> None:
    # The module's state (a Powertools resolver's current event) is one copy for both functions.
    occupancy = Occupancy()
    platform, connect = _spec("Platform"), _spec("Connect")
    calls = [(platform if n % 2 else connect, n) for n in range(16)]

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda call: invoke(call[0], {"n": call[1], "occupancy": occupancy}), calls))

    assert answers == list(range(16))
    assert occupancy.most["all functions"] == 1
