"""A real client of the contract: clients/typescript's types are generated from openapi.json
(openapi-typescript), type-checked with its calls (`tsc --noEmit`), and its walk of the main flow runs
against the local stack through openapi-fetch: profile, track with its audio uploaded, visual uploaded,
READY, activated, exported and polled to DONE, the MP4 downloaded, shared; Stripe connected, a price set,
collected by a fan at the Stripe fake until the webhook gives them the full track. When the document
drifts from the code, tsc or the walk fails."""

import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.local.stripe_fake import API_KEY
from tests.media_factory import make_audio, make_video

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"


def _npm(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    npm = shutil.which("npm")
    assert npm, "Node.js and npm are needed for the TypeScript client"
    if not (ROOT / "node_modules" / ".bin" / "tsc").exists():
        pytest.fail("the Node packages are not installed: `make node_modules` (make test does it)")
    return subprocess.run(
        [npm, "run", "--silent", *args],
        cwd=CLIENT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def generated_client() -> Path:
    generated = _npm("generate")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return CLIENT / "src" / "schema.d.ts"


def test_the_generated_types_check_with_the_client_calls(generated_client: Path) -> None:
    assert "requestExport" in generated_client.read_text()
    checked = _npm("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_client_walks_the_main_flow_against_the_local_stack(
    stack: Any, generated_client: Path, tmp_path: Path
) -> None:
    env = os.environ | {
        "CASSET_API_URL": stack.url,
        "CASSET_TOKEN": stack.token(f"ts-walk-{uuid.uuid4().hex[:8]}"),
        "CASSET_FAN_TOKEN": stack.token(f"ts-fan-{uuid.uuid4().hex[:8]}"),
        "CASSET_STRIPE_URL": stack.stripe_url,
        "CASSET_STRIPE_KEY": API_KEY,
        "CASSET_AUDIO": str(make_audio(tmp_path / "song.mp3", seconds=8.0)),
        "CASSET_VIDEO": str(make_video(tmp_path / "loop.mp4", seconds=2, width=180, height=320)),
    }
    walked = _npm("walk", env=env, timeout=300)
    print(walked.stdout)
    assert walked.returncode == 0, walked.stdout + walked.stderr
    steps = [line.split(":", 1)[0] for line in walked.stdout.splitlines()]
    for step in ("createProfile", "createTrack", "upload audio", "createVisual", "activateVisual"):
        assert step in steps
    assert "requestExport" in steps and "download" in steps and "createShare" in steps
    assert "createPaymentIntent" in steps and "collected" in steps
    assert walked.stdout.splitlines()[-1].startswith("walked: ")
