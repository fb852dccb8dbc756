"""Fixtures shared by every test layer. AWS is never reached: unit tests need none, integration tests
run on moto with the template's own tables and bucket, e2e tests start the local stack."""

import copy
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Fake credentials and Powertools quiet mode before anything imports boto3 or Powertools.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "CassetTest",
        "POWERTOOLS_SERVICE_NAME": "casset-test",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@contextmanager
def moto_stack() -> Iterator[Any]:
    """moto with the template's tables, bucket, queues and triggers; handlers run inline."""
    from moto import mock_aws

    from casset.data import storage
    from casset.settings import get_settings
    from infra.local.blueprint import blueprint
    from infra.local.functions import install_environment
    from infra.local.moto_patches import run_handlers_in_process
    from infra.local.provision import provision

    plan = blueprint()
    saved = dict(os.environ)
    install_environment(plan)
    get_settings.cache_clear()
    storage._s3.cache_clear()
    with mock_aws():
        provision(plan)
        undo = run_handlers_in_process(plan, asynchronous=False)
        try:
            yield plan
        finally:
            undo()
            storage._s3.cache_clear()
            get_settings.cache_clear()
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture
def aws() -> Iterator[Any]:
    with moto_stack() as plan:
        yield plan


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    user: str | None = None,
    groups: list[str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    raw_body: str | None = None,
    base64: bool = False,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, built on the sample in events/."""
    event = copy.deepcopy(load_event("http-create-track.json"))
    event["rawPath"] = path
    event["requestContext"]["http"]["method"] = method
    event["requestContext"]["http"]["path"] = path
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    event["headers"] = {"content-type": "application/json", **(headers or {})}
    event["rawQueryString"] = urlencode(query or {})
    if query:
        event["queryStringParameters"] = query
    if user:
        claims: dict[str, Any] = {"sub": user}
        if groups:
            claims["cognito:groups"] = "[" + " ".join(groups) + "]"
        event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    else:
        event["requestContext"].pop("authorizer", None)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    else:
        event.pop("body", None)
    event["isBase64Encoded"] = base64
    return event


class Api:
    """Calls the real API handler with HTTP API events and decodes its responses."""

    def __call__(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, dict[str, str]]:
        from api.app import lambda_handler
        from infra.local.functions import LambdaContext

        response = lambda_handler(http_event(method, path, **kwargs), LambdaContext("api", 512, 15))
        body = response.get("body")
        return response["statusCode"], json.loads(body) if body else None, response.get("headers", {})


@pytest.fixture
def api(aws: Any) -> Api:
    return Api()
