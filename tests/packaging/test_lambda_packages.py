"""Every function of template.yaml starts with only what its package ships.

The venv has every dependency, so the other tests cannot see a handler whose imports reach a package its
function does not carry (PyAV outside the ffmpeg layer, Pillow outside the render image): deployed, such a
function fails every invocation with ModuleNotFoundError. Here each function is built as Lambda gets it
(tests/packaging/lambda_packages.py) and its handler is imported in a fresh interpreter that sees only that
build, its layers and the runtime's SDK, with the environment the template gives it; the API also answers
one request there.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.package_sizes import LIMIT_BYTES
from tests.conftest import load_event
from tests.packaging.lambda_packages import (
    RUNTIME,
    LambdaPackage,
    packages,
    sys_path,
    task_root,
    unzipped_size,
)

# One worker builds and imports them all: the pip installs are shared, and concurrent imports on two
# cores would only slow each other down.
pytestmark = [pytest.mark.packaging, pytest.mark.xdist_group("packaging")]

PACKAGES = {package.function: package for package in packages()}
REGION = "us-east-1"

# Imports the handler and resolves it (and invokes it with the event, if one is given), then reports what
# the interpreter could see.
_START_HANDLER = """
import importlib, json, sys, types
paths, handler, event = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
sys.path[:0] = paths
module_name, _, attribute = handler.rpartition(".")
function = getattr(importlib.import_module(module_name), attribute)
if not callable(function):
    raise TypeError(f"{handler} is not callable")
context = types.SimpleNamespace(
    function_name="casset", function_version="$LATEST", memory_limit_in_mb=512, aws_request_id="request-1",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:casset",
    get_remaining_time_in_millis=lambda: 15000,
)
response = function(event, context) if event is not None else None
print(json.dumps({"path": sys.path, "site": "site" in sys.modules, "response": response}))
"""


def _lambda_environment(package: LambdaPackage, root: Path, paths: list[Path]) -> dict[str, str]:
    """What the Lambda runtime sets, then the template's variables. AWS calls at import fail fast."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(root),
        "LAMBDA_RUNTIME_DIR": str(paths[-1]),
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{package.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": f"casset-local-{package.function}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "_HANDLER": package.handler,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        # Nothing listens there: a handler that calls AWS while importing fails here instead of hanging.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
        **package.environment,
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambda-task-roots")


def test_the_template_has_zip_functions_with_and_without_layers_and_an_image() -> None:
    """The packages read from the template cover the shapes the import test must tell apart."""
    assert "ApiFunction" in PACKAGES and "RenderFunction" in PACKAGES
    assert any(package.layers for package in PACKAGES.values())
    assert any(not package.layers and package.requirements for package in PACKAGES.values())


def _start(package: LambdaPackage, builds: Path, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start the function built as Lambda gets it in a clean interpreter (no site-packages, no PYTHON*
    variables): import its handler, resolve it, invoke it with the event if one is given."""
    assert package.runtime == RUNTIME, (
        f"{package.function} runs on {package.runtime}; this test runs {RUNTIME}"
    )
    root = task_root(package, builds)
    paths = sys_path(package, root)
    arguments = [json.dumps([str(path) for path in paths]), package.handler, json.dumps(event)]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _START_HANDLER, *arguments],
        cwd=root,
        env=_lambda_environment(package, root, paths),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{package.function} ({package.handler}) cannot start with only what it ships:\n"
            f"{result.stderr[-3000:]}"
        )
    seen: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    # Nothing but the build and the standard library was visible.
    assert not seen["site"]
    outside = [entry for entry in seen["path"] if entry not in map(str, paths)]
    assert all(entry.startswith(sys.base_prefix) and "site-packages" not in entry for entry in outside), (
        outside
    )
    return seen


@pytest.mark.parametrize("function", sorted(PACKAGES))
def test_the_handler_imports_with_only_what_its_package_ships(function: str, builds: Path) -> None:
    _start(PACKAGES[function], builds)


@pytest.mark.parametrize("function", sorted(name for name, package in PACKAGES.items() if package.layers))
def test_a_function_with_layers_fits_lambdas_unzipped_limit(function: str, builds: Path) -> None:
    """`make build` checks this after `sam build` (infra/package_sizes.py); CI sees it here."""
    package = PACKAGES[function]
    size = unzipped_size(package, task_root(package, builds))
    assert size <= LIMIT_BYTES, f"{function}: {size / 2**20:.0f} MB unzipped with its layers, over 250 MB"


def test_the_api_answers_a_request_with_only_what_it_ships(builds: Path) -> None:
    """Routing, validation and serialising import more on the first request; GET /api/tags needs no AWS."""
    event = load_event("http-list-visuals.json")
    event.update(routeKey="GET /api/tags", rawPath="/api/tags", rawQueryString="", pathParameters={})
    event.pop("queryStringParameters", None)
    event["requestContext"]["http"].update(method="GET", path="/api/tags")

    response = _start(PACKAGES["ApiFunction"], builds, event)["response"]

    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["items"]
