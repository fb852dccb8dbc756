"""Runs the template's functions in this process: the handler named by Handler, the environment the
template gives it, and a Lambda-like context."""

import importlib
import os
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


def invoke(spec: FunctionSpec, event: dict) -> Any:
    context = LambdaContext(f"casset-local-{spec.logical_id}", spec.memory_mb, spec.timeout_sec)
    return handler_of(spec)(event, context)
