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
        # Feature flags from the repo's document (read-only) in every layer, the e2e stack included;
        # the `feature_flags` fixture points this at a per-test copy.
        "FEATURE_FLAGS_FILE": str(ROOT / "infra" / "feature-flags.json"),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@contextmanager
def moto_stack() -> Iterator[Any]:
    """moto with the template's tables, bucket, queues and triggers, patched like `make dev`'s
    (infra/local/moto_patches.py); handlers run inline."""
    from moto import mock_aws

    from casset.data import storage
    from casset.settings import get_settings
    from infra.local.blueprint import blueprint
    from infra.local.functions import install_environment
    from infra.local.moto_patches import patch_moto
    from infra.local.provision import provision

    plan = blueprint()
    saved = dict(os.environ)
    install_environment(plan)
    get_settings.cache_clear()
    storage._s3.cache_clear()
    with mock_aws():
        provision(plan)
        undo = patch_moto(plan, asynchronous=False)
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


class FeatureFlagsFile:
    """The flag document a test runs with: starts as infra/feature-flags.json; every change replaces the
    file whole, and the flags read it again on their next evaluation (as `make dev` does)."""

    def __init__(self, path: Path):
        self.path = path
        self.document: dict[str, Any] = json.loads((ROOT / "infra" / "feature-flags.json").read_text())
        self._write()

    def enable(self, feature: str) -> None:
        self.document[feature] = {"default": True}
        self._write()

    def disable(self, feature: str) -> None:
        self.document[feature] = {"default": False}
        self._write()

    def target(self, feature: str, *, artist_ids: tuple[str, ...] = (), groups: tuple[str, ...] = ()) -> None:
        """Off, except for these artists and for callers in any of these groups."""
        rules: dict[str, Any] = {}
        if artist_ids:
            condition = {"action": "KEY_IN_VALUE", "key": "artist_id", "value": list(artist_ids)}
            rules["artists"] = {"when_match": True, "conditions": [condition]}
        for group in groups:
            condition = {"action": "VALUE_IN_KEY", "key": "groups", "value": group}
            rules[f"group {group}"] = {"when_match": True, "conditions": [condition]}
        self.document[feature] = {"default": False, "rules": rules}
        self._write()

    def write_text(self, text: str) -> None:
        """Any content, valid or not (for the tests of a broken store)."""
        staging = self.path.with_name(f".{self.path.name}.new")
        staging.write_text(text)
        os.replace(staging, self.path)

    def _write(self) -> None:
        self.write_text(json.dumps(self.document, indent=2))


@pytest.fixture
def feature_flags(tmp_path: Path) -> Iterator[FeatureFlagsFile]:
    """Flags from a per-test file (see FeatureFlagsFile); settings and the cached FeatureFlags are reset
    on the way in and out, so no other test sees them."""
    from casset import flags
    from casset.settings import get_settings

    document = FeatureFlagsFile(tmp_path / "feature-flags.json")
    previous = os.environ.get("FEATURE_FLAGS_FILE")
    os.environ["FEATURE_FLAGS_FILE"] = str(document.path)
    get_settings.cache_clear()
    flags.reset()
    yield document
    if previous is None:
        os.environ.pop("FEATURE_FLAGS_FILE", None)
    else:
        os.environ["FEATURE_FLAGS_FILE"] = previous
    get_settings.cache_clear()
    flags.reset()


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
