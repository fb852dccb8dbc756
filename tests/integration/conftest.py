"""Fixtures for the integration tests (moto, the real API and probe handlers, PyAV-made media).

Provisioning the template's tables, bucket and trigger on moto costs ~0.7 s, so the integration tests
share one moto account per module instead of one per test: `aws` below overrides tests/conftest.py's
function-scoped fixture (the `api` fixture there picks it up). Tests stay independent by working only
with users, tracks and visuals they create themselves (`support.fresh` ids)."""

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration import support


@pytest.fixture(scope="module")
def aws() -> Iterator[Any]:
    from moto import mock_aws

    from casset.data import storage
    from casset.settings import get_settings
    from infra.local.blueprint import blueprint
    from infra.local.functions import install_environment
    from infra.local.moto_patches import run_handlers_in_process
    from infra.local.provision import provision

    plan = blueprint()
    restore_sessions = _share_botocore_sessions()
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
            restore_sessions()


def _share_botocore_sessions() -> Callable[[], None]:
    """Every DynamoDB transaction in the app opens a new PynamoDB Connection, which builds a new botocore
    session and so re-reads botocore's JSON models (~0.1 s each; test_sdk_clients.py holds that as a
    bug). That doubled this suite's run time, so until it is fixed PynamoDB gets one botocore session per
    thread here. Behaviour is unchanged: each Connection still builds its own client from it."""
    import botocore.session
    from pynamodb.connection import base

    original = base.get_session
    sessions = threading.local()

    def shared_session() -> botocore.session.Session:
        if getattr(sessions, "session", None) is None:
            sessions.session = botocore.session.get_session()
        return sessions.session

    base.get_session = shared_session

    def restore() -> None:
        base.get_session = original

    return restore


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
