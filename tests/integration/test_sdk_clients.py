"""A warm Lambda container reuses its AWS SDK clients: building a botocore client re-reads the service's
JSON models, which costs ~0.1 s of CPU each time (measured here on moto; more on a 512 MB Lambda)."""

from typing import Any

import botocore.session
import pytest

from tests.integration.support import Api, Artist, Media, add_visual, create_profile, set_active


class ClientCounter:
    """Counts the botocore clients built from the moment `start` is called."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.built: list[str] = []
        self._monkeypatch = monkeypatch

    def start(self) -> None:
        original = botocore.session.Session.create_client
        built = self.built

        def counting(session: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
            built.append(service_name)
            return original(session, service_name, *args, **kwargs)

        self._monkeypatch.setattr(botocore.session.Session, "create_client", counting)


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> ClientCounter:
    return ClientCounter(monkeypatch)


def test_plain_reads_and_writes_reuse_the_dynamodb_client(
    api: Api, artist: Artist, clients: ClientCounter
) -> None:
    clients.start()  # the artist fixture warmed the container up

    for title in ("One", "Two", "Three"):
        assert (
            api("PATCH", f"/api/tracks/{artist.track_id}", user=artist.user_id, body={"title": title})[0]
            == 200
        )

    assert clients.built.count("dynamodb") == 0


def test_transactional_writes_reuse_the_dynamodb_client(
    api: Api, artist: Artist, media: Media, clients: ClientCounter
) -> None:
    visual = add_visual(api, artist.user_id, artist.track_id, media.clip)
    clients.start()  # the container is warm: it has written transactions before

    create_profile(api)
    set_active(api, artist.user_id, artist.track_id, visual["id"], True)
    set_active(api, artist.user_id, artist.track_id, visual["id"], False)

    assert clients.built.count("dynamodb") == 0
