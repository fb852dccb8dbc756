"""The error catalogue (casset/error_codes.py) is what the code raises, what the README's error table lists
and what the OpenAPI document publishes: a code added in one place and not the others fails here."""

import ast
import importlib
import json
import re
from http import HTTPStatus
from pathlib import Path

from casset import errors
from casset.error_codes import ERROR_CODES

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"


def _module_strings(tree: ast.Module) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }


def _status_of_class(path: Path, name: str) -> HTTPStatus:
    module = ".".join(path.relative_to(FUNCTIONS).with_suffix("").parts)
    return HTTPStatus(getattr(importlib.import_module(module), name).status)


def raised_codes() -> dict[str, set[HTTPStatus]]:
    """Every code the code can answer with, and the status of the error that carries it: `code=` given to
    an error class, `code = ...` on an error class, and the literal codes of api/errors.py."""
    found: dict[str, set[HTTPStatus]] = {}
    for path in FUNCTIONS.rglob("*.py"):
        if "egg-info" in str(path):
            continue
        tree = ast.parse(path.read_text())
        strings = _module_strings(tree)

        def text(node: ast.expr, strings: dict[str, str] = strings) -> str | None:
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                return node.value
            return strings.get(node.id) if isinstance(node, ast.Name) else None

        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(getattr(t, "id", None) == "code" for t in statement.targets)
                        and (code := text(statement.value))
                    ):
                        found.setdefault(code, set()).add(_status_of_class(path, node.name))
            if not isinstance(node, ast.Call):
                continue
            callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if callee == "error_response":
                # The mapping's literal codes; error_response(error.status, error.code, ...) passes the
                # domain errors' codes on, which are collected where they are raised.
                if code := text(node.args[1]):
                    found.setdefault(code, set()).add(HTTPStatus[node.args[0].attr])  # type: ignore[attr-defined]
                continue
            for keyword in node.keywords:
                if keyword.arg == "code" and (code := text(keyword.value)):
                    error_class = getattr(errors, callee, None)
                    if error_class is None:
                        error_class = getattr(importlib.import_module(_module_of(path)), callee)
                    found.setdefault(code, set()).add(HTTPStatus(error_class.status))
    return found


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(FUNCTIONS).with_suffix("").parts)


def test_every_code_the_code_answers_with_is_catalogued_with_its_status() -> None:
    raised = raised_codes()
    assert {code: {ERROR_CODES[code][0]} for code in raised if code in ERROR_CODES} == {
        code: statuses for code, statuses in raised.items() if code in ERROR_CODES
    }
    assert sorted(set(raised) - set(ERROR_CODES)) == []


def test_the_catalogue_has_no_code_nothing_answers_with() -> None:
    assert sorted(set(ERROR_CODES) - set(raised_codes())) == []


def test_the_readme_error_table_lists_exactly_the_catalogue() -> None:
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### Errors", 1)[1].split("Probe failure reasons", 1)[0]
    listed: dict[str, int] = {}
    for row in table.splitlines():
        cells = row.split("|")
        if len(cells) < 3 or not cells[1].strip().isdigit():
            continue
        for code in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[2]):
            listed[code] = int(cells[1])
    assert listed == {code: int(status) for code, (status, _) in ERROR_CODES.items()}


def test_the_openapi_document_publishes_the_catalogue() -> None:
    document = json.loads((ROOT / "openapi.json").read_text())
    code = document["components"]["schemas"]["ErrorOut"]["properties"]["code"]
    assert code["enum"] == sorted(ERROR_CODES)
    assert {name: entry["status"] for name, entry in code["x-error-codes"].items()} == {
        name: int(status) for name, (status, _) in ERROR_CODES.items()
    }
