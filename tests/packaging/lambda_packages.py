"""What Lambda gets for each function of template.yaml, built without SAM CLI or Docker.

A zip function is its CodeUri copied, with CodeUri/requirements.txt installed beside it (as `sam build`
does), plus each layer's requirements installed into that layer's python/ folder. The image function is
read from its Dockerfile: the folders it copies into LAMBDA_TASK_ROOT and the requirement files it
installs. Every function also gets the SDK the python3.12 runtime carries (boto3 and its dependencies),
and nothing else.

pip installs each requirements file once into .local/lambda-builds/, keyed by the file's content and the
interpreter; the code is copied afresh for every run, so the build always holds the code under test.
"""

import fcntl
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from infra.local.blueprint import blueprint
from infra.translate import load_template

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".local" / "lambda-builds"
RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
# What the Lambda Python runtime has besides the standard library: the SDK and its dependencies.
RUNTIME_DISTRIBUTIONS = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six")


@dataclass(frozen=True)
class LambdaPackage:
    """One function as Lambda sees it: its code folders, what is installed beside them, its layers."""

    function: str  # logical id
    runtime: str
    handler: str  # module.attribute
    code: tuple[tuple[Path, str], ...]  # (source folder, destination inside the task root)
    requirements: tuple[Path, ...]  # installed into the task root
    layers: tuple[Path, ...]  # one requirements file per layer, installed into its python/
    environment: dict[str, str]


def packages() -> list[LambdaPackage]:
    template = load_template()
    resources = template["Resources"]
    function_globals = template.get("Globals", {}).get("Function", {})
    environments = {name: spec.environment for name, spec in blueprint().functions.items()}
    found = []
    for name, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = {**function_globals, **resource["Properties"]}
        if properties.get("PackageType") == "Image":
            found.append(_image_package(name, resource, environments[name]))
            continue
        code_uri = ROOT / properties["CodeUri"]
        requirements = code_uri / "requirements.txt"
        layers = [*function_globals.get("Layers", []), *resource["Properties"].get("Layers", [])]
        found.append(
            LambdaPackage(
                function=name,
                runtime=properties["Runtime"],
                handler=properties["Handler"],
                code=((code_uri, "."),),
                requirements=(requirements,) if requirements.exists() else (),
                layers=tuple(_layer_requirements(resources, layer) for layer in layers),
                environment=environments[name],
            )
        )
    return found


def _layer_requirements(resources: dict[str, Any], layer: Any) -> Path:
    assert isinstance(layer, dict) and set(layer) == {"Ref"}, f"only layers of this template build: {layer}"
    properties = resources[layer["Ref"]]
    build_method = properties.get("Metadata", {}).get("BuildMethod", "")
    assert build_method.startswith("python"), f"{layer['Ref']}: BuildMethod {build_method!r} is not pip"
    return ROOT / properties["Properties"]["ContentUri"] / "requirements.txt"


def _image_package(name: str, resource: dict[str, Any], environment: dict[str, str]) -> LambdaPackage:
    """The image as its Dockerfile builds it (FROM, COPY, RUN pip install -r, CMD; nothing else)."""
    context = ROOT / resource["Metadata"]["DockerContext"]
    dockerfile = context / resource["Metadata"]["Dockerfile"]
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    runtime, cmd = "", ""
    staged: dict[str, Path] = {}  # a file copied outside the task root, by where it was copied to
    code: list[tuple[Path, str]] = []
    requirements: list[Path] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, argument = line.partition(" ")
        match instruction.upper():
            case "FROM":
                base = re.fullmatch(r"public\.ecr\.aws/lambda/python:(\d+\.\d+)", argument.strip())
                assert base, f"{dockerfile}: not a Lambda Python base image: {argument}"
                runtime = f"python{base.group(1)}"
            case "COPY":
                source, destination = shlex.split(argument)
                if destination.startswith("${LAMBDA_TASK_ROOT}"):
                    code.append(
                        (context / source, destination.removeprefix("${LAMBDA_TASK_ROOT}").strip("/"))
                    )
                else:
                    staged[destination] = context / source
            case "RUN":
                for command in argument.split("&&"):
                    words = shlex.split(command)
                    if words[:2] == ["pip", "install"]:
                        requirements.extend(_pip_requirement_files(words[2:], staged, dockerfile))
            case "CMD":
                cmd = json.loads(argument)[0]
            case _:
                raise AssertionError(f"{dockerfile}: {instruction} is not read by this build; extend it")
    command = resource["Properties"].get("ImageConfig", {}).get("Command", [cmd])[0]
    assert command == cmd, f"{name}: ImageConfig.Command {command} differs from the Dockerfile's CMD {cmd}"
    return LambdaPackage(
        function=name,
        runtime=runtime,
        handler=command,
        code=tuple(code),
        requirements=tuple(requirements),
        layers=(),
        environment=environment,
    )


def _pip_requirement_files(words: list[str], staged: dict[str, Path], dockerfile: Path) -> Iterator[Path]:
    words = iter(words)
    for word in words:
        if word == "-r":
            yield staged[next(words)]
        elif not word.startswith("--"):
            raise AssertionError(f"{dockerfile}: pip install {word}: list it in a requirements file")


def pip_installed(requirements: Path) -> Path:
    """A folder holding `pip install --target` of the requirements file, built once per content."""
    included = [line for line in requirements.read_text().splitlines() if line.strip().startswith("-")]
    assert not included, f"{requirements}: the build cache is keyed by this file alone: {included}"
    key = hashlib.sha256(requirements.read_bytes() + f"{sys.version}|{sys.platform}".encode()).hexdigest()
    target = CACHE / f"{requirements.parent.name}-{key[:16]}"
    with _locked():
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            result = subprocess.run(
                [*pip, "--no-input", "--target", str(partial), "-r", str(requirements)],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, f"pip install -r {requirements} failed:\n{result.stderr}"
            partial.rename(target)
    return target


def runtime_sdk() -> Path:
    """boto3 and its dependencies, copied from this interpreter's install as the runtime carries them."""
    versions = {name: metadata.version(name) for name in RUNTIME_DISTRIBUTIONS}
    key = hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()
    target = CACHE / f"runtime-sdk-{key[:16]}"
    with _locked():
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            for name in RUNTIME_DISTRIBUTIONS:
                distribution = metadata.distribution(name)
                for file in distribution.files or ():
                    if ".." in file.parts or "__pycache__" in file.parts:
                        continue  # console scripts live outside site-packages
                    destination = partial / file
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(Path(str(distribution.locate_file(file))), destination)
            partial.rename(target)
    return target


def task_root(package: LambdaPackage, into: Path) -> Path:
    """The package's code folders copied the way the build copies them (no bytecode caches)."""
    root = into / package.function
    for source, destination in package.code:
        shutil.copytree(
            source, root / destination, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )
    return root


def sys_path(package: LambdaPackage, root: Path) -> list[Path]:
    """The runtime's order: the task root (code, then what is installed with it), the layers, the SDK."""
    return [
        root,
        *(pip_installed(requirements) for requirements in package.requirements),
        *(pip_installed(layer) for layer in package.layers),
        runtime_sdk(),
    ]


def unzipped_size(package: LambdaPackage, root: Path) -> int:
    """Bytes Lambda counts against its unzipped limit: the task root and the layers (sam build writes no
    bytecode, and the runtime's SDK is not the function's)."""
    folders = [root, *sys_path(package, root)[1:-1]]
    return sum(
        file.stat().st_size
        for folder in folders
        for file in folder.rglob("*")
        if file.is_file() and "__pycache__" not in file.parts
    )


@contextmanager
def _locked() -> Iterator[None]:
    """One builder at a time across processes (pytest-xdist workers, parallel runs)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
