"""Concurrent writes through the API handler: the single-active-visual invariant and unique handles are
held by DynamoDB conditions and transactions, whatever the interleaving.

Threads are a faithful model of several Lambda containers hitting one table because moto runs each
DynamoDB request atomically, as DynamoDB does (infra/local/moto_patches.py; unpatched, moto applies a
TransactWriteItems item by item and rolls back by restoring whole-table snapshots, so two threads inside
moto at once can lose each other's writes), and because of one piece of harness:

- Powertools keeps the request being resolved in process-global state (BaseRouter.current_event and the
  resolver's context dict): fine in Lambda, one request per container at a time, not across threads.
  `LambdaContainers` lets requests take turns on the handler and hands the floor over only inside the
  data-layer call under test, saving and restoring that state, so the database work (where the race
  lives: read the current state, then write conditioned on it) runs truly concurrently.
"""

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.integration.support import (
    Api,
    Artist,
    Media,
    add_visual,
    fresh,
    get_track,
    raw_item,
    set_active,
)

THREADS = 8


class LambdaContainers:
    """Requests from many threads, each behaving as if it had the API handler to itself."""

    def __init__(self, api: Api, parties: int) -> None:
        self._api = api
        self._floor = threading.Lock()
        self.start_line = threading.Barrier(parties, timeout=60)

    def call(self, *args: Any, **kwargs: Any) -> Any:
        with self._floor:
            return self._api(*args, **kwargs)

    def concurrently(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """`func` runs off the floor, all parties starting it together (at the barrier)."""
        from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

        from api.app import app

        def off_the_floor(*args: Any, **kwargs: Any) -> Any:
            saved = BaseRouter.current_event, BaseRouter.lambda_context, dict(app.context)
            self._floor.release()
            try:
                self.start_line.wait()
                return func(*args, **kwargs)
            finally:
                self._floor.acquire()
                BaseRouter.current_event, BaseRouter.lambda_context = saved[:2]
                app.context.clear()
                app.context.update(saved[2])

        return off_the_floor


@pytest.fixture
def containers(api: Api) -> Iterator[Callable[[int], LambdaContainers]]:
    yield lambda parties: LambdaContainers(api, parties)


def run_in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [future.result(timeout=120) for future in [pool.submit(call) for call in calls]]


def pairing_state(api: Api, artist: Artist) -> tuple[str | None, dict[str, tuple[str, bool]]]:
    """The track's activeVisualId, and each visual's (status, isActive) as stored."""
    status, page, _ = api(
        "GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id, query={"limit": "100"}
    )
    assert status == 200, page
    visuals = {visual["id"]: (visual["status"], visual["isActive"]) for visual in page["items"]}
    return get_track(api, artist.track_id)["activeVisualId"], visuals


def assert_pairing_consistent(api: Api, artist: Artist) -> str | None:
    """At most one visual is active, it is READY, and it is the one the track points at."""
    track_active, visuals = pairing_state(api, artist)
    active = [visual_id for visual_id, (_, is_active) in visuals.items() if is_active]
    assert active == ([track_active] if track_active else []), (track_active, visuals)
    if track_active:
        assert visuals[track_active] == ("READY", True)
    return track_active


def test_concurrent_activations_leave_exactly_one_active_visual(
    api: Api, artist: Artist, media: Media, containers: Callable[[int], LambdaContainers], monkeypatch: Any
) -> None:
    from casset.data import visuals as visuals_data

    # Given a track with eight READY visuals, the first one active
    visual_ids = [add_visual(api, artist.user_id, artist.track_id, media.clip)["id"] for _ in range(THREADS)]
    assert set_active(api, artist.user_id, artist.track_id, visual_ids[0], True)[0] == 200
    # When eight requests each activate a different visual at the same moment
    lambdas = containers(THREADS)
    monkeypatch.setattr(visuals_data, "activate", lambdas.concurrently(visuals_data.activate))
    replies = run_in_threads(
        [
            lambda visual_id=visual_id: lambdas.call(
                "PATCH",
                f"/api/tracks/{artist.track_id}/visuals/{visual_id}/active",
                user=artist.user_id,
                body={"active": True},
            )
            for visual_id in visual_ids
        ]
    )
    monkeypatch.undo()
    # Then every request succeeded, or gave up cleanly after its retries
    outcomes = [(int(status), body["id"] if status == 200 else body["code"]) for status, body, _ in replies]
    assert all(outcome[0] == 200 or outcome == (503, "UNAVAILABLE") for outcome in outcomes), outcomes
    assert any(status == 200 for status, _ in outcomes)
    # And exactly one visual is active: the one the track points at, activated by a successful request
    winner = assert_pairing_consistent(api, artist)
    assert winner is not None
    assert (200, winner) in outcomes
    assert sum(raw_item("VISUALS_TABLE", {"id": v})["isActive"]["BOOL"] for v in visual_ids) == 1


def test_concurrent_claims_of_one_handle_have_exactly_one_winner(
    api: Api, containers: Callable[[int], LambdaContainers], monkeypatch: Any
) -> None:
    from casset.data import users as users_data

    # Given four users who all want the same handle
    users, handle, parties = [fresh("user-") for _ in range(4)], fresh("h"), 4
    lambdas = containers(parties)
    monkeypatch.setattr(users_data, "create_user", lambdas.concurrently(users_data.create_user))
    # When they claim it at the same moment
    replies = run_in_threads(
        [
            lambda user=user: lambdas.call(
                "POST", "/api/users", user=user, body={"handle": handle, "displayName": "Me"}
            )
            for user in users
        ]
    )
    monkeypatch.undo()
    # Then one gets it, the others are told it is taken and have no profile
    codes = [(int(status), body.get("code")) for status, body, _ in replies]
    assert Counter(codes) == {(201, None): 1, (409, "HANDLE_TAKEN"): 3}, codes
    winner = users[codes.index((201, None))]
    assert raw_item("HANDLES_TABLE", {"handle": handle})["userId"] == {"S": winner}
    assert [raw_item("USERS_TABLE", {"id": user}) is not None for user in users] == [
        user == winner for user in users
    ]


def test_archiving_a_visual_that_was_activated_meanwhile_keeps_the_pairing_consistent(
    api: Api, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import visuals as visuals_data

    # Given a READY, inactive visual
    visual_id = add_visual(api, artist.user_id, artist.track_id, media.clip)["id"]
    # When the artist archives it in one tab while activating it in another, and the activation commits
    # after the archive request has read the visual but before it writes
    archive_now = visuals_data.archive

    def activation_lands_first(visual: Any) -> None:
        visuals_data.activate(artist.track_id, visual.id)
        archive_now(visual)

    monkeypatch.setattr(visuals_data, "archive", activation_lands_first)
    status, body, _ = api(
        "POST", f"/api/tracks/{artist.track_id}/visuals/{visual_id}/archive", user=artist.user_id
    )
    monkeypatch.undo()
    # Then either the archive is refused as stale, or it also ended the pairing: never a track
    # pointing at an archived visual
    assert status == 200 or (status, body["code"]) == (409, "VISUAL_CHANGED"), body
    assert_pairing_consistent(api, artist)


def test_archiving_the_active_visual_while_another_is_activated_keeps_the_pairing_consistent(
    api: Api, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import visuals as visuals_data

    # Given visual A active and visual B READY
    a, b = (add_visual(api, artist.user_id, artist.track_id, media.clip)["id"] for _ in range(2))
    assert set_active(api, artist.user_id, artist.track_id, a, True)[0] == 200
    # When A's archive request read A (active), then B's activation committed, then the archive writes
    archive_now = visuals_data.archive

    def activation_lands_first(visual: Any) -> None:
        visuals_data.activate(artist.track_id, b)
        archive_now(visual)

    monkeypatch.setattr(visuals_data, "archive", activation_lands_first)
    status, body, _ = api("POST", f"/api/tracks/{artist.track_id}/visuals/{a}/archive", user=artist.user_id)
    monkeypatch.undo()
    # Then the stale archive is refused, and B is the one active visual
    assert (status, body["code"]) == (409, "VISUAL_CHANGED")
    assert assert_pairing_consistent(api, artist) == b
    assert pairing_state(api, artist)[1][a] == ("READY", False)


def test_an_activation_gives_up_cleanly_when_the_track_keeps_changing(
    api: Api, artist: Artist, media: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import tables

    # Given two READY visuals, and a track whose activeVisualId changes between every read and write
    a, b = (add_visual(api, artist.user_id, artist.track_id, media.clip)["id"] for _ in range(2))
    real_get = tables.TrackItem.get.__func__

    def get_then_someone_else_activates(cls: Any, *args: Any, **kwargs: Any) -> Any:
        item = real_get(cls, *args, **kwargs)
        other = fresh("someone-else-")
        tables.TrackItem(id=artist.track_id).update(actions=[tables.TrackItem.active_visual_id.set(other)])
        return item

    monkeypatch.setattr(tables.TrackItem, "get", classmethod(get_then_someone_else_activates))
    status, body, _ = set_active(api, artist.user_id, artist.track_id, b, True)
    monkeypatch.undo()
    # Then it answers 503 UNAVAILABLE (retryable) and did not mark the visual active
    assert (status, body["code"]) == (503, "UNAVAILABLE")
    assert raw_item("VISUALS_TABLE", {"id": b})["isActive"] == {"BOOL": False}
    assert raw_item("VISUALS_TABLE", {"id": a})["isActive"] == {"BOOL": False}


def test_concurrent_reuses_of_one_upload_on_one_track_make_one_visual(
    api: Api, artist: Artist, media: Media, containers: Callable[[int], LambdaContainers], monkeypatch: Any
) -> None:
    from casset.data import visuals as visuals_data

    # Given an upload on another of the artist's tracks
    other_track = api("POST", "/api/tracks", user=artist.user_id, body={"title": "B side"})[1]["track"]["id"]
    original = add_visual(api, artist.user_id, other_track, media.clip)["id"]
    # When four requests (tabs, double clicks) add it to the track at the same moment, each past the check
    lambdas = containers(4)
    monkeypatch.setattr(visuals_data, "create_visual", lambdas.concurrently(visuals_data.create_visual))
    replies = run_in_threads(
        [
            lambda: lambdas.call(
                "POST",
                f"/api/tracks/{artist.track_id}/visuals",
                user=artist.user_id,
                body={"reuseVisualId": original},
            )
            for _ in range(4)
        ]
    )
    monkeypatch.undo()
    # Then one visual is made and the others are told it is already there
    codes = Counter((int(status), body.get("code")) for status, body, _ in replies)
    assert codes == {(201, None): 1, (409, "VISUAL_ALREADY_ON_TRACK"): 3}, codes
    page = api(
        "GET", f"/api/studio/tracks/{artist.track_id}/visuals", user=artist.user_id, query={"limit": "100"}
    )[1]
    assert [visual["reusedFrom"] for visual in page["items"]] == [original]


def test_paging_while_visuals_arrive_concurrently_never_repeats_or_skips(
    api: Api, artist: Artist, media: Media
) -> None:
    from datetime import UTC, datetime

    from casset import positions
    from casset.data import visuals as visuals_data
    from casset.entities import MediaStatus, VideoInfo, VisualKind
    from casset.ids import new_id
    from casset.rules import Caller
    from casset.services import visuals

    # Given a library of ten READY visuals
    template = visuals_data.get_visual(add_visual(api, artist.user_id, artist.track_id, media.clip)["id"])
    assert template is not None and isinstance(template.media, VideoInfo)

    def arrive() -> str:
        """A READY visual appended the way the service appends (after the current last position)."""
        now = datetime.now(UTC)
        visual = template.model_copy(
            update={
                "id": new_id(),
                "status": MediaStatus.READY,
                "kind": VisualKind.ARTIST,
                "position": positions.between(visuals_data.last_position(artist.track_id), None),
                "created_at": now,
                "updated_at": now,
            }
        )
        return visuals_data.create_visual(visual).id

    initial = [template.id, *(arrive() for _ in range(9))]
    arrived: list[str] = []
    done = threading.Event()

    def keep_arriving() -> None:
        while not done.is_set() and len(arrived) < 40:
            arrived.append(arrive())

    def page_through() -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            page = visuals.list_track_visuals(Caller(), artist.track_id, None, None, 3, cursor)
            seen += [visual.id for visual in page.items]
            if page.next_cursor is None or len(seen) > 200:
                return seen
            cursor = page.next_cursor

    # When a fan pages through (three at a time) while new visuals keep arriving
    with ThreadPoolExecutor(max_workers=2) as pool:
        writer = pool.submit(keep_arriving)
        seen = pool.submit(page_through).result(timeout=120)
        done.set()
        writer.result(timeout=60)

    # Then no visual is served twice, every visual that was there is served, in the library's order
    assert len(seen) == len(set(seen))
    assert seen[: len(initial)] == initial
    assert set(seen) <= set(initial) | set(arrived)
    order = initial + arrived
    assert seen == sorted(seen, key=order.index)
    assert len(arrived) > 0
