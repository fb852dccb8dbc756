"""Fixtures for the integration tests (moto, the real API and probe handlers, PyAV-made media).

Provisioning the template's tables, bucket and trigger on moto costs ~0.7 s, so the integration tests
share one moto account per module instead of one per test: `aws` below overrides tests/conftest.py's
function-scoped fixture (the `api` fixture there picks it up). Tests stay independent by working only
with users, tracks and visuals they create themselves (`support.fresh` ids)."""

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import xmltodict

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
    restore_tagging = _tolerate_empty_tag_sets()
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
            restore_tagging()


def _tolerate_empty_tag_sets() -> Callable[[], None]:
    """moto 5.2.5 answers PutObjectTagging with an empty TagSet with a 500 (it indexes the missing Tag
    list), while S3 documents that an empty tag set removes the object's tags. Unarchiving a visual
    untags its media that way, so emulate S3 here. (infra/local/moto_patches.py lacks this too, so the
    local stack answers POST .../unarchive with a 500.)"""
    from moto.s3.responses import S3Response

    original = S3Response._tagging_from_xml

    def tagging_from_xml(self: S3Response) -> dict[str, str]:
        if not (xmltodict.parse(self.body).get("Tagging") or {}).get("TagSet"):
            return {}
        return original(self)

    S3Response._tagging_from_xml = tagging_from_xml

    def restore() -> None:
        S3Response._tagging_from_xml = original

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
