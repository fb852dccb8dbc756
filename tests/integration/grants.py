"""IAM on moto: which AWS actions each template function performs while its handler runs, checked
against the role SAM gives that function (template.yaml translated, so policy templates such as
DynamoDBReadPolicy are expanded to their real actions and resources).

moto enforces no IAM, so a handler that reads a table its function has no policy for passes every test
and fails deployed with AccessDenied. The `function_grants` fixture (tests/integration/conftest.py)
records, during every integration test, each botocore call made while a template function's handler
runs, as the IAM actions and resource ARNs AWS would authorise (a presigned URL or POST counts: its
holder acts with the function's role), and fails the test on any call the function's role does not allow.

Attribution: each function's handler attribute is wrapped in its module (so the `api` fixture, the
webhook helpers and infra/local/functions.invoke all reach the wrapper), and moto's Lambda service code
(retries, on-failure destinations) runs as nobody. A call from a thread that runs no handler (s3transfer's
workers) counts for the one function running in the process, and for none when several are."""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pytest

from infra.local.blueprint import ACCOUNT_ID, LOCAL_PARAMETERS, REGION, blueprint
from infra.translate import load_template, translated

_SERVICE = "the Lambda service"  # moto_patches' own calls (destinations): no function's role


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]

    def allows(self, action: str, resource: str) -> bool:
        return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions) and any(
            fnmatch.fnmatchcase(resource, pattern) for pattern in self.resources
        )


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str
    granted: bool  # by the function's role as deployed with the environment of the moment

    def __str__(self) -> str:
        return f"{self.function}: {self.action} on {self.resource}"


# The template's roles


def _cloudformation() -> dict[str, Any]:
    parameters = tuple((key, value) for key, value in LOCAL_PARAMETERS.items() if "::" not in key)
    return translated(parameters=parameters)


def _resolve(value: Any, variables: dict[str, str]) -> Any:
    """The intrinsics SAM's policy templates leave in a role, with the local stack's physical names."""
    if isinstance(value, list):
        return [_resolve(item, variables) for item in value]
    if not isinstance(value, dict):
        return value
    ((function, argument),) = value.items()
    if function == "Ref":
        return variables.get(argument) or _physical(argument)
    if function == "Fn::GetAtt":
        logical_id, attribute = argument
        return _attribute(logical_id, attribute)
    if function == "Fn::Sub":
        text, local = (argument, {}) if isinstance(argument, str) else argument
        names = variables | {key: str(_resolve(item, variables)) for key, item in local.items()}

        def substitute(expression: str) -> str:
            if "." in expression:
                logical_id, attribute = expression.split(".", 1)
                return _attribute(logical_id, attribute)
            return str(names.get(expression) or _physical(expression))

        return re.sub(r"\$\{([^}]+)\}", lambda match: substitute(match.group(1)), text)
    raise ValueError(f"no local value for {value!r} in a role")


def _physical(name: str) -> str:
    physical = blueprint().physical_names
    if name in physical:
        return (
            physical[name].rsplit("/", 1)[-1] if physical[name].startswith("https://sqs.") else physical[name]
        )
    return LOCAL_PARAMETERS[name]


def _attribute(logical_id: str, attribute: str) -> str:
    name = blueprint().physical_names[logical_id]
    if name.startswith("https://sqs."):
        queue = name.rsplit("/", 1)[1]
        return {"QueueName": queue, "Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}", "QueueUrl": name}[
            attribute
        ]
    if attribute == "Arn":
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    return name


def _listed(value: Any) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


@lru_cache(maxsize=1)
def _parameter_variables() -> tuple[tuple[str, str, str, str], ...]:
    """(variable, text before, text after, template parameter) for every environment variable of a function
    that is `!Ref P` or a `!Sub` of one parameter P; the template is parsed once, not on every AWS call."""
    template = load_template()
    declared = template.get("Parameters", {})
    environments = [template.get("Globals", {}).get("Function", {}).get("Environment", {})]
    environments += [
        resource.get("Properties", {}).get("Environment", {})
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    found = []
    for environment in environments:
        for variable, value in environment.get("Variables", {}).items():
            if not isinstance(value, dict):
                continue
            # !Ref P, or !Sub "/${P}" and the like: P can be read back out of the variable's value.
            text = value.get("Fn::Sub") if isinstance(value.get("Fn::Sub"), str) else None
            if value.get("Ref") in declared:
                text = "${" + value["Ref"] + "}"
            names = re.findall(r"\$\{([^}.]+)\}", text or "")
            if len(names) != 1 or names[0] not in declared:
                continue
            before, after = str(text).split("${" + names[0] + "}")
            found.append((variable, before, after, names[0]))
    return tuple(found)


def _configured_parameters() -> tuple[tuple[str, str], ...]:
    """Template parameters that reach a function's environment, with the value the environment has now:
    a test that points a function at another SSM parameter (settings_env) deploys it with that name, and
    the policy that Refs the same template parameter follows."""
    found = {}
    for variable, before, after, parameter in _parameter_variables():
        if variable not in os.environ:
            continue
        match = re.fullmatch(re.escape(before) + "(.*)" + re.escape(after), os.environ[variable])
        if match:
            found[parameter] = match[1]
    return tuple(sorted(found.items()))


def roles() -> dict[str, tuple[Statement, ...]]:
    return _roles(_configured_parameters())


@lru_cache(maxsize=8)
def _roles(parameters: tuple[tuple[str, str], ...]) -> dict[str, tuple[Statement, ...]]:
    """Function logical id -> the Allow statements of its role's inline policies (SAM's expansion)."""
    resources = _cloudformation()["Resources"]
    variables = dict(parameters)
    found: dict[str, tuple[Statement, ...]] = {}
    for logical_id in blueprint().functions:
        role_id = resources[logical_id]["Properties"]["Role"]["Fn::GetAtt"][0]
        statements = []
        for policy in resources[role_id]["Properties"].get("Policies", []):
            for statement in _listed(policy["PolicyDocument"]["Statement"]):
                if statement["Effect"] != "Allow":
                    continue
                statements.append(
                    Statement(
                        actions=_listed(statement["Action"]),
                        resources=tuple(_listed(_resolve(statement["Resource"], variables))),
                    )
                )
        found[logical_id] = tuple(statements)
    return found


def allowed(function: str, action: str, resource: str) -> bool:
    return any(statement.allows(action, resource) for statement in roles()[function])


# botocore calls as IAM requests

_S3_ACTIONS = {
    "HeadObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
}
_BUCKET_LEVEL = {"s3:ListBucket"}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def _table(name: str, index: str | None = None) -> str:
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
    return f"{arn}/index/{index}" if index else arn


def _object(bucket: str, key: str | None) -> str:
    return f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"


def requests_of(service: str, operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs AWS authorises for one API call."""
    if service == "dynamodb":
        if operation in {"TransactWriteItems", "TransactGetItems"}:
            return [
                (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(part["TableName"]))
                for item in params["TransactItems"]
                for kind, part in item.items()
            ]
        if operation in {"BatchGetItem", "BatchWriteItem"}:
            return [(f"dynamodb:{operation}", _table(name)) for name in params["RequestItems"]]
        return [(f"dynamodb:{operation}", _table(params["TableName"], params.get("IndexName")))]
    if service == "s3":
        if operation == "DeleteObjects":
            return [
                ("s3:DeleteObject", _object(params["Bucket"], entry["Key"]))
                for entry in params["Delete"]["Objects"]
            ]
        action = _S3_ACTIONS.get(operation, f"s3:{operation}")
        target = _object(params["Bucket"], None if action in _BUCKET_LEVEL else params.get("Key"))
        if operation == "CopyObject":
            source = params["CopySource"]
            if isinstance(source, str):
                source_bucket, source_key = source.lstrip("/").split("/", 1)
            else:
                source_bucket, source_key = source["Bucket"], source["Key"]
            found = [("s3:PutObject", target), ("s3:GetObject", _object(source_bucket, source_key))]
        else:
            found = [(action, target)]
        if operation in {"PutObject", "CopyObject"} and params.get("Tagging"):
            found.append(("s3:PutObjectTagging", target))
        return found
    if service == "sqs":
        if operation == "GetQueueUrl":
            return [("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{params['QueueName']}")]
        queue = params["QueueUrl"].rstrip("/").rsplit("/", 1)[1]
        action = "sqs:SendMessage" if operation == "SendMessageBatch" else f"sqs:{operation}"
        return [(action, f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue}")]
    if service == "ssm":
        names = params.get("Names") or [params.get("Name") or params.get("Path")]
        return [
            (f"ssm:{operation}", f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter/{name.lstrip('/')}")
            for name in names
        ]
    if service == "events" and operation == "PutEvents":
        return [
            ("events:PutEvents", _event_bus(entry.get("EventBusName", "default")))
            for entry in params["Entries"]
        ]
    # A service this table does not know yet: the check fails until someone teaches it the call.
    return [(f"{service}:{operation}", "*")]


def _event_bus(name: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:events:{REGION}:{ACCOUNT_ID}:event-bus/{name}"


# Recording


class Recorder:
    """Every call a template function's handler makes during one test, and the ones its role refuses."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._local = threading.local()
        self._running: list[str] = []  # every thread's running handlers, for threads that run none

    def _stack(self) -> list[str]:
        if not hasattr(self._local, "stack"):
            self._local.stack = []
        stack: list[str] = self._local.stack
        return stack

    @contextmanager
    def running(self, function: str) -> Iterator[None]:
        self._stack().append(function)
        with self._lock:
            self._running.append(function)
        try:
            yield
        finally:
            self._stack().pop()
            with self._lock:
                self._running.remove(function)

    def _current(self) -> str | None:
        stack = self._stack()
        if stack:
            return stack[-1]
        with self._lock:
            functions = set(self._running) - {_SERVICE}
        return functions.pop() if len(functions) == 1 else None

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = self._current()
        if function is None or function == _SERVICE:
            return
        for action, resource in requests_of(service, operation, params):
            call = Call(function, action, resource, allowed(function, action, resource))
            with self._lock:
                self.calls.append(call)

    def touched(self, function: str, service: str = "") -> set[str]:
        """The resources `function` acted on (optionally of one service, e.g. "dynamodb")."""
        return {
            call.resource
            for call in self.calls
            if call.function == function and call.action.startswith(f"{service}:" if service else "")
        }

    def refused(self) -> list[Call]:
        return sorted({call for call in self.calls if not call.granted}, key=str)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from botocore.client import BaseClient
        from botocore.signers import S3PostPresigner

        from infra.local import moto_patches

        recorder = self
        emit_api_params = BaseClient._emit_api_params

        def recording_emit(self: BaseClient, api_params: Any, operation_model: Any, context: Any) -> Any:
            params = emit_api_params(self, api_params, operation_model, context)
            # A presigned POST builds its URL from CreateBucket; the POST itself is recorded below.
            if not (context.get("is_presign_request") and operation_model.name == "CreateBucket"):
                recorder.record(self.meta.service_model.service_name, operation_model.name, params)
            return params

        generate_presigned_post = S3PostPresigner.generate_presigned_post

        def recording_post(
            self: S3PostPresigner, request_dict: Any, fields: Any = None, conditions: Any = None, **kw: Any
        ) -> Any:
            bucket = next(c["bucket"] for c in conditions or [] if isinstance(c, dict) and "bucket" in c)
            params: dict[str, Any] = {"Bucket": bucket, "Key": (fields or {})["key"]}
            if "tagging" in (fields or {}):
                params["Tagging"] = fields["tagging"]
            recorder.record("s3", "PutObject", params)
            return generate_presigned_post(self, request_dict, fields, conditions, **kw)

        monkeypatch.setattr(BaseClient, "_emit_api_params", recording_emit)
        monkeypatch.setattr(S3PostPresigner, "generate_presigned_post", recording_post)

        run = moto_patches._run

        def service_run(spec: Any, payload: dict) -> Any:
            with recorder.running(_SERVICE):
                return run(spec, payload)

        monkeypatch.setattr(moto_patches, "_run", service_run)

        for logical_id, (module, attribute) in handlers().items():
            monkeypatch.setattr(module, attribute, self._attributed(logical_id, getattr(module, attribute)))

    def _attributed(self, function: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        def attributed(event: Any, context: Any) -> Any:
            with self.running(function):
                return handler(event, context)

        return attributed


def handlers() -> dict[str, tuple[Any, str]]:
    """Function logical id -> (its handler's module, attribute); no two functions share a handler."""
    found: dict[str, tuple[Any, str]] = {}
    for logical_id, spec in blueprint().functions.items():
        module_name, attribute = spec.handler.rsplit(".", 1)
        found[logical_id] = (importlib.import_module(module_name), attribute)
    assert len({(id(m), a) for m, a in found.values()}) == len(found), "two functions share a handler"
    return found
