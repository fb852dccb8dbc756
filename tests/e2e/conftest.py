"""Starts the local stack (`python -m infra.local`, what `make dev` runs) on free ports for the e2e tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    url: str
    moto_url: str
    stripe_url: str

    def token(self, subject: str, groups: str = "") -> str:
        result = subprocess.run(
            [sys.executable, "-m", "infra.local.tokens", "--sub", subject, "--groups", groups],
            cwd=ROOT,
            env=_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT)])
    return env


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    api_port, moto_port, stripe_port = _free_port(), _free_port(), _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.local",
            "--port",
            str(api_port),
            "--moto-port",
            str(moto_port),
            "--stripe-port",
            str(stripe_port),
            "--quiet",
        ],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"local stack exited: {process.stdout.read() if process.stdout else ''}")
            try:
                requests.get(f"{url}/api/tracks/none", timeout=10)
                break
            except requests.RequestException:
                time.sleep(0.3)
        else:
            raise RuntimeError("local stack did not start within 60 s")
        yield Stack(url, f"http://127.0.0.1:{moto_port}", f"http://127.0.0.1:{stripe_port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
