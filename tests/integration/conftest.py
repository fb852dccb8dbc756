"""Fixtures for the integration tests (moto, the real API and probe handlers, PyAV-made media).

Provisioning the template's tables, bucket and trigger on moto costs ~0.7 s, so the integration tests
share one moto account per module instead of one per test: `aws` below overrides tests/conftest.py's
function-scoped fixture (the `api` fixture there picks it up). Tests stay independent by working only
with users, tracks and visuals they create themselves (`support.fresh` ids)."""

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import moto_stack
from tests.integration import support


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    with moto_stack() as plan:
        yield plan


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> support.Media:
    return support.Media(tmp_path_factory.mktemp("media"))


@pytest.fixture
def artist(api: support.Api) -> support.Artist:
    """A fresh artist profile with one track (no audio yet)."""
    user = support.create_profile(api, artist=True)
    track = support.create_track(api, user)["track"]
    return support.Artist(user, track["id"])


@pytest.fixture
def settings_env() -> Iterator[Any]:
    """Set environment variables the settings read, for one test; restored (and re-read) afterwards."""
    from casset.settings import get_settings

    saved = dict(os.environ)

    def set_env(**values: str) -> None:
        os.environ.update(values)
        get_settings.cache_clear()

    yield set_env
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def function_grants(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Every integration test on moto is also an IAM test: what a template function's handler does
    must be allowed by that function's role in template.yaml (tests/integration/grants.py)."""
    if "aws" not in request.fixturenames:
        yield None
        return
    from tests.integration.grants import Recorder

    recorder = Recorder()
    recorder.install(monkeypatch)
    yield recorder
    refused = recorder.refused()
    assert not refused, "template.yaml grants no policy for:\n" + "\n".join(map(str, refused))
