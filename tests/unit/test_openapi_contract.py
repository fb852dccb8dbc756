"""The OpenAPI document is a contract a client can be generated from: every operation says what it
answers on success, names itself in camelCase, says whether it is anonymous, lists each error status with
the catalogue's codes for it, and passes Redocly's recommended lint (redocly.yaml)."""

import os
import re
import shutil
import subprocess
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest

from api.openapi import build
from casset.error_codes import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
REDOCLY = ROOT / "node_modules" / ".bin" / "redocly"
CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z0-9]*)+|[a-z]+")


def _operations() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in build()["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_declares_a_success_answer() -> None:
    missing = [
        label
        for label, operation in _operations()
        if not any(200 <= int(status) < 400 for status in operation["responses"])
    ]
    assert missing == []


def test_bodiless_answers_declare_no_body_and_redirects_say_where() -> None:
    for label, operation in _operations():
        for status, response in operation["responses"].items():
            if int(status) in {HTTPStatus.NO_CONTENT, HTTPStatus.FOUND}:
                assert "content" not in response, label
            if int(status) == HTTPStatus.FOUND:
                assert {"Location", "Set-Cookie"} <= set(response["headers"]), label


def test_operation_ids_are_unique_camel_case_names() -> None:
    ids = [operation["operationId"] for _, operation in _operations()]
    assert len(ids) == len(set(ids))
    assert [name for name in ids if not CAMEL_CASE.fullmatch(name)] == []
    assert {"getTrack", "createVisual", "requestExport", "activateVisual"} <= set(ids)


def test_every_operation_says_who_may_call_it_under_a_declared_tag() -> None:
    tags = {tag["name"] for tag in build()["tags"]}
    for label, operation in _operations():
        assert operation["security"] in ([], [{"bearerAuth": []}]), label
        assert operation["summary"], label
        assert operation["tags"] and set(operation["tags"]) <= tags, label


def _codes_by_status(document: dict[str, Any]) -> dict[int, set[str]]:
    """The `code` values each error status of some operation lists, read from the document alone."""
    shared = document["components"]["responses"]
    listed: dict[int, set[str]] = {}
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = shared[response["$ref"].rsplit("/", 1)[1]]["content"]["application/json"]["schema"]
                for option in schema.get("anyOf", [schema]):
                    for part in option.get("allOf", []):
                        listed.setdefault(int(status), set()).update(
                            part.get("properties", {}).get("code", {}).get("enum", [])
                        )
    return listed


def test_every_catalogue_code_is_listed_under_its_own_status_and_no_other() -> None:
    # Given the document's error responses, as a client reads them
    listed = _codes_by_status(build())

    # When each listed code is looked up in the catalogue, and each catalogue code in the document
    misplaced = {
        (status, code) for status, codes in listed.items() for code in codes if ERROR_CODES[code][0] != status
    }
    unlisted = {code for code, (status, _) in ERROR_CODES.items() if code not in listed.get(status, set())}

    # Then every code a client can meet is documented, under the status it comes with only
    assert misplaced == set()
    assert unlisted == set()


def test_shape_decides_the_shared_answers() -> None:
    operations = dict(_operations())
    # A JSON body can be malformed, too large, of another type, or not match the schema.
    assert {"400", "413", "415", "422"} <= set(operations["PATCH /api/tracks/{trackId}"]["responses"])
    # Signed-in writes spend the write budget; API Gateway's authorizer may refuse the token.
    update = operations["PATCH /api/tracks/{trackId}"]["responses"]
    assert update["401"] == {"$ref": "#/components/responses/UnauthorizedOrGateway"}
    assert update["429"] == {"$ref": "#/components/responses/TooManyRequestsOrGateway"}
    # A path value the router does not match is 404 ROUTE_NOT_FOUND, even where the logic has no 404.
    assert "404" in operations["GET /r/{code}"]["responses"]
    # An anonymous read without parameters: only API Gateway throttles it, and it cannot be a 4xx of ours.
    tags = operations["GET /api/tags"]["responses"]
    assert sorted(tags) == ["200", "429", "500", "503"]
    assert tags["429"] == {"$ref": "#/components/responses/GatewayTooManyRequests"}
    # API Gateway answers 500 and 503 itself when the function times out, crashes or fails to start.
    assert tags["500"] == {"$ref": "#/components/responses/InternalServerErrorOrGateway"}
    assert tags["503"] == {"$ref": "#/components/responses/ServiceUnavailableOrGateway"}
    assert operations["GET /api/tags"]["security"] == []


def test_the_document_lints_clean_with_redocly() -> None:
    if not REDOCLY.exists():
        pytest.fail("Redocly CLI is not installed: `make node_modules` (make test and make lint do it)")
    node = shutil.which("node")
    assert node, "Node.js is needed for the contract lint"
    result = subprocess.run(
        [str(REDOCLY), "lint", "openapi.json", "--format=summary"],
        cwd=ROOT,
        env=os.environ | {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    # The summary lists each rule with problems as "error <rule>: n" or "warning <rule>: n".
    assert re.findall(r"^\s*(?:error|warning)\s+\S+: \d+", report, re.MULTILINE) == [], report
