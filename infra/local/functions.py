"""Runs the template's functions in this process: the handler named by Handler, the environment the
template gives it, and a Lambda-like context.

Lambda hands an execution environment one event at a time, and our handlers rely on it: the Powertools
resolver keeps the request it is resolving in module-level state. Every invocation here (the local API
Gateway, moto's Lambda invocations for S3, SQS and EventBridge) goes through `invoke`, which holds the
function's one local environment for the whole event, so concurrent requests to a function queue as they
would for a function whose reserved concurrency is 1.

An environment here is a handler module, not a function: this process holds one copy of each module, so
two functions whose handlers share a module (the platform and Connect webhooks share one resolver) share
its state and must take turns, where Lambda would give each its own copy."""

import importlib
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.blueprint import ACCOUNT_ID, REGION, Blueprint, FunctionSpec


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    timeout_sec: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_sec * 1000


def install_environment(plan: Blueprint, extra: dict[str, str] | None = None) -> dict[str, str]:
    """One process hosts every function, so their environments must agree; they do in this template."""
    merged: dict[str, str] = {}
    for spec in plan.functions.values():
        for name, value in spec.environment.items():
            if merged.setdefault(name, value) != value:
                raise RuntimeError(f"functions disagree on {name}; run them in separate processes")
    merged |= extra or {}
    os.environ.update(merged)
    return merged


def handler_of(spec: FunctionSpec) -> Callable[[dict, Any], Any]:
    module_name, attribute = spec.handler.rsplit(".", 1)
    handler: Callable[[dict, Any], Any] = getattr(importlib.import_module(module_name), attribute)
    return handler


class _Environment:
    """The execution environment of the functions whose handlers live in one module: one event at a time."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._holder: int | None = None

    def run(self, handler: Callable[[dict, Any], Any], event: dict, context: LambdaContext) -> Any:
        if self._holder == threading.get_ident():
            # Waiting would deadlock; Lambda would start a second environment, which this process lacks.
            raise RuntimeError(f"{self.name} invoked itself synchronously; the local stack cannot do that")
        with self._lock:
            self._holder = threading.get_ident()
            try:
                return handler(event, context)
            finally:
                self._holder = None


_environments: dict[str, _Environment] = {}
_environments_lock = threading.Lock()


def _environment(name: str) -> _Environment:
    with _environments_lock:
        return _environments.setdefault(name, _Environment(name))


def invoke(spec: FunctionSpec, event: dict) -> Any:
    """Run one event through the function, after any event its handler module is already running."""
    context = LambdaContext(f"casset-local-{spec.logical_id}", spec.memory_mb, spec.timeout_sec)
    module_name = spec.handler.rsplit(".", 1)[0]
    return _environment(module_name).run(handler_of(spec), event, context)
