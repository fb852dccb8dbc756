"""The paywall at the edges, through the real API handler on moto: who may choose the window of an export or
a share (the artist, a collector; not a fan who never collected, nor someone else), who may read an export
and its signed URL, what rendering may cost (an hourly budget per user, a ceiling on renders in flight),
and one visibility rule for visuals named by id."""

import os
from datetime import timedelta
from typing import Any

import boto3
import pytest

from tests.conftest import Api as ApiClient
from tests.integration import support
from tests.integration.support import Api, Media

HOOK_START, HOOK_SECONDS = 2.0, 5.0  # the track's hook: 2 s to 7 s of 12 s of audio


@pytest.fixture(scope="module")
def api_module(aws: Any) -> Api:
    return ApiClient()


@pytest.fixture(scope="module")
def media_module(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return Media(tmp_path_factory.mktemp("paywall-media"))


@pytest.fixture(scope="module")
def stage(api_module: Api, media_module: Media) -> support.Artist:
    return _stage(api_module, media_module)


def _stage(api: Api, media: Media) -> support.Artist:
    artist = support.create_profile(api, artist=True)
    created = support.create_track(
        api, artist, previewStartSec=HOOK_START, hookDurationSec=HOOK_SECONDS, audioContentType="audio/wav"
    )
    support.put_object(created["audioUpload"]["key"], media.audio(".wav", seconds=12.0), "audio/wav")
    track = support.get_track(api, created["track"]["id"])
    assert track["audio"]["status"] == "READY", track
    return support.Artist(artist, track["id"])


def _fan(api: Api) -> str:
    return support.create_profile(api, artist=False)


def _collector(api: Api, stage: support.Artist) -> str:
    fan = _fan(api)
    support.grant_collect(fan, stage.user_id)
    return fan


def _export(api: Api, user: str | None, track_id: str, **fields: Any) -> support.Reply:
    body = {"trackId": track_id, "preset": "low", **fields}
    return api("POST", "/api/hooks/tiktok-video", user=user, body=body)


def _exported(api: Api, user: str, track_id: str, **fields: Any) -> dict[str, Any]:
    status, job, _ = _export(api, user, track_id, **fields)
    assert status in {200, 202}, job
    return dict(job)


def _plan_window(export_id: str) -> tuple[float, float]:
    item = support.raw_item("EXPORTS_TABLE", {"id": export_id})
    assert item is not None
    plan = item["plan"]["M"]
    return float(plan["hookStartSec"]["N"]), float(plan["hookDurationSec"]["N"])


def _exports_of_track(track_id: str) -> list[str]:
    """Every export job of the track, read whole (a test-only scan of a small moto table)."""
    items = boto3.client("dynamodb").scan(TableName=os.environ["EXPORTS_TABLE"])["Items"]
    return [item["id"]["S"] for item in items if item["plan"]["M"]["trackId"]["S"] == track_id]


def _read(api: Api, user: str | None, export_id: str) -> support.Reply:
    return api("GET", f"/api/exports/{export_id}", user=user)


def _share(api: Api, user: str | None, track_id: str, **fields: Any) -> support.Reply:
    return api("POST", "/api/shares", user=user, body={"trackId": track_id, **fields})


def _share_start(share_id: str) -> float:
    item = support.raw_item("HOOK_SHARES_TABLE", {"id": share_id})
    assert item is not None
    return float(item["hookStartSec"]["N"])


def _visual(api: Api, stage: support.Artist, media: Media) -> str:
    visual = support.add_visual(api, stage.user_id, stage.track_id, media.clip)
    assert visual["status"] == "READY", visual
    return str(visual["id"])


# The window of an export


@pytest.mark.parametrize(
    "window",
    [
        {"hookStartSec": 6},  # another 5 s of the track
        {"hookDurationSec": 10},  # a longer stretch from the hook's start
        {"hookStartSec": 0, "hookDurationSec": 12},
    ],
)
def test_a_fan_who_never_collected_cannot_choose_the_window_of_an_export(
    api: Api, media_module: Media, window: dict[str, float]
) -> None:
    stage = _stage(api, media_module)

    status, body, _ = _export(api, _fan(api), stage.track_id, **window)

    assert (status, body["code"]) == (403, "HOOK_WINDOW_LOCKED")
    assert body["details"] == [{"hookStartSec": HOOK_START, "hookDurationSec": HOOK_SECONDS}]
    assert _exports_of_track(stage.track_id) == []  # nothing rendered, nothing queued


@pytest.mark.parametrize(
    "window",
    [{}, {"hookStartSec": HOOK_START}, {"hookStartSec": HOOK_START, "hookDurationSec": HOOK_SECONDS}],
)
def test_a_fan_exports_the_tracks_hook_by_asking_for_it_or_for_no_window(
    api: Api, stage: support.Artist, window: dict[str, float]
) -> None:
    job = _exported(api, _fan(api), stage.track_id, **window)
    assert _plan_window(job["id"]) == (HOOK_START, HOOK_SECONDS)


def test_someone_without_a_profile_gets_the_hook_too(api: Api, stage: support.Artist) -> None:
    assert support.error_code(_export(api, support.fresh("no-profile-"), stage.track_id, hookStartSec=6)) == (
        403,
        "HOOK_WINDOW_LOCKED",
    )


def test_the_artist_and_a_collector_choose_any_window(api: Api, stage: support.Artist) -> None:
    by_artist = _exported(api, stage.user_id, stage.track_id, hookStartSec=6, hookDurationSec=6)
    by_collector = _exported(api, _collector(api, stage), stage.track_id, hookStartSec=1, hookDurationSec=7)
    assert _plan_window(by_artist["id"]) == (6, 6)
    assert _plan_window(by_collector["id"]) == (1, 7)


def test_a_refunded_collect_no_longer_lets_a_fan_choose(api: Api, stage: support.Artist) -> None:
    fan = _fan(api)
    purchase_id = support.grant_collect(fan, stage.user_id)
    boto3.client("dynamodb").update_item(
        TableName=os.environ["PURCHASES_TABLE"],
        Key={"id": {"S": purchase_id}},
        UpdateExpression="SET #state = :refunded",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":refunded": {"S": "REFUNDED"}},
    )
    assert support.error_code(_export(api, fan, stage.track_id, hookStartSec=6)) == (
        403,
        "HOOK_WINDOW_LOCKED",
    )


def test_a_collector_of_another_artist_cannot_choose(
    api: Api, stage: support.Artist, media_module: Media
) -> None:
    other = _stage(api, media_module)
    assert support.error_code(_export(api, _collector(api, other), stage.track_id, hookStartSec=6)) == (
        403,
        "HOOK_WINDOW_LOCKED",
    )


def test_nobody_exports_anything(api: Api, stage: support.Artist) -> None:
    assert support.error_code(_export(api, None, stage.track_id)) == (401, "UNAUTHORIZED")


# The window of a share, and exporting from one


def test_a_fan_shares_the_tracks_hook_and_cannot_share_another_window(
    api: Api, stage: support.Artist
) -> None:
    fan = _fan(api)

    assert support.error_code(_share(api, fan, stage.track_id, hookStartSec=6)) == (403, "HOOK_WINDOW_LOCKED")
    by_default = _share(api, fan, stage.track_id)[1]
    asked_hook = _share(api, fan, stage.track_id, hookStartSec=HOOK_START)[1]

    assert _share_start(by_default["id"]) == _share_start(asked_hook["id"]) == HOOK_START
    assert by_default["hookStartSec"] == asked_hook["hookStartSec"] == HOOK_START


def test_a_collectors_share_keeps_its_window_for_collectors_and_gives_fans_the_hook(
    api: Api, stage: support.Artist
) -> None:
    status, share, _ = _share(api, _collector(api, stage), stage.track_id, hookStartSec=6)
    assert status == 201 and _share_start(share["id"]) == 6

    for_collector = _exported(api, _collector(api, stage), stage.track_id, shareId=share["id"])
    for_fan = _exported(api, _fan(api), stage.track_id, shareId=share["id"])

    assert _plan_window(for_collector["id"]) == (6, HOOK_SECONDS)
    assert _plan_window(for_fan["id"]) == (HOOK_START, HOOK_SECONDS)
    # Asking for the share's window by name does not widen it either.
    assert support.error_code(
        _export(api, _fan(api), stage.track_id, shareId=share["id"], hookStartSec=6)
    ) == (
        403,
        "HOOK_WINDOW_LOCKED",
    )


def test_the_artists_share_of_another_window_gives_fans_the_hook(api: Api, stage: support.Artist) -> None:
    share = _share(api, stage.user_id, stage.track_id, hookStartSec=5)[1]
    for_fan = _exported(api, _fan(api), stage.track_id, shareId=share["id"])
    assert _plan_window(for_fan["id"]) == (HOOK_START, HOOK_SECONDS)


# Who reads an export


def test_an_export_of_the_public_hook_is_readable_by_whoever_could_ask_for_it(
    api: Api, stage: support.Artist, media_module: Media
) -> None:
    visual_id = _visual(api, stage, media_module)
    job = _exported(api, _fan(api), stage.track_id, visualAssetId=visual_id)

    for reader in (_fan(api), stage.user_id, _collector(api, stage), support.fresh("no-profile-")):
        status, body, _ = _read(api, reader, job["id"])
        assert status == 200 and body["status"] == "DONE" and body["downloadUrl"], (reader, body)
    assert support.error_code(_read(api, None, job["id"])) == (404, "EXPORT_NOT_FOUND")


def test_an_export_of_another_window_is_readable_by_its_requester_the_artist_and_collectors_only(
    api: Api, stage: support.Artist
) -> None:
    requester = _collector(api, stage)
    job = _exported(api, requester, stage.track_id, hookStartSec=6, hookDurationSec=6)

    for reader in (requester, stage.user_id, _collector(api, stage)):
        status, body, _ = _read(api, reader, job["id"])
        assert status == 200 and body["downloadUrl"], (reader, body)
    for outsider in (_fan(api), support.fresh("no-profile-"), None):
        status, body, _ = _read(api, outsider, job["id"])
        assert (status, body["code"]) == (404, "EXPORT_NOT_FOUND") and "downloadUrl" not in body


def test_an_export_whose_visual_was_archived_is_no_longer_everyones(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    visual_id = _visual(api, stage, media_module)
    requester = _fan(api)
    job = _exported(api, requester, stage.track_id, visualAssetId=visual_id)
    assert _read(api, _fan(api), job["id"])[0] == 200
    archived = api("POST", f"/api/tracks/{stage.track_id}/visuals/{visual_id}/archive", user=stage.user_id)
    assert archived[0] == 200, archived[1]

    assert support.error_code(_read(api, _fan(api), job["id"])) == (404, "EXPORT_NOT_FOUND")
    assert _read(api, requester, job["id"])[0] == 200
    assert _read(api, stage.user_id, job["id"])[0] == 200


def test_an_export_of_an_old_hook_is_no_longer_everyones(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    requester = _fan(api)
    job = _exported(api, requester, stage.track_id)
    moved = api("PATCH", f"/api/tracks/{stage.track_id}", user=stage.user_id, body={"previewStartSec": 4})
    assert moved[0] == 200, moved[1]

    assert support.error_code(_read(api, _fan(api), job["id"])) == (404, "EXPORT_NOT_FOUND")
    assert _read(api, requester, job["id"])[0] == 200
    assert _read(api, _collector(api, stage), job["id"])[0] == 200


# What rendering may cost


def test_each_user_starts_a_bounded_number_of_renders_an_hour_and_cache_hits_are_free(
    api: Api, media_module: Media, settings_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import rate_limits

    stage = _stage(api, media_module)
    settings_env(EXPORT_RENDERS_PER_HOUR="2")
    # A minute into an hour of its own: the wait depends on where in the hour the budget ran out.
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    artist = stage.user_id
    first = _exported(api, artist, stage.track_id, hookStartSec=0)
    _exported(api, artist, stage.track_id, hookStartSec=1)

    status, body, headers = _export(api, artist, stage.track_id, hookStartSec=3)
    again = _export(api, artist, stage.track_id, hookStartSec=0)

    assert (status, body["code"]) == (429, "RENDER_BUDGET_EXCEEDED")
    # The rest of this hour, then half the next, until the sliding hour's share of the two is down to one
    assert headers["Retry-After"] == str(3540 + 1800)
    assert not any(_plan_window(export_id)[0] == 3 for export_id in _exports_of_track(stage.track_id))
    assert again[0] == 200 and again[1]["id"] == first["id"]  # already rendered: free
    # The budget is the user's: a fan still exports, and other writes are not held back.
    assert _export(api, _fan(api), stage.track_id)[0] in {200, 202}
    assert api("PATCH", f"/api/tracks/{stage.track_id}", user=artist, body={"title": "Still mine"})[0] == 200


def test_no_render_is_queued_while_the_platform_has_its_ceiling_in_flight(
    api: Api, media_module: Media, settings_env: Any
) -> None:
    from casset.data import exports as exports_data
    from casset.services.exports import plan_export
    from casset.services.tracks import get_track

    stage = _stage(api, media_module)
    rendered = _exported(api, stage.user_id, stage.track_id, hookStartSec=0.25)
    settings_env(EXPORT_MAX_IN_FLIGHT="1")
    # Given one render queued (a job nobody has picked up yet)
    plan = plan_export(get_track(stage.track_id), 7, 5, None, None, "standard")
    stuck, created = exports_data.create_export(support.fresh("inflight"), plan, "someone")
    assert created

    status, body, headers = _export(api, stage.user_id, stage.track_id, hookStartSec=0.5)

    assert (status, body["code"]) == (503, "RENDER_QUEUE_FULL") and int(headers["Retry-After"]) > 0
    assert not any(_plan_window(export_id)[0] == 0.5 for export_id in _exports_of_track(stage.track_id))
    # A cache hit needs no room in the queue.
    cached = _export(api, stage.user_id, stage.track_id, hookStartSec=0.25)
    assert cached[0] == 200 and cached[1]["id"] == rendered["id"]
    # Once it ends, there is room again.
    assert exports_data.fail(stuck.id, "TEST", "ended by the test")
    assert _export(api, stage.user_id, stage.track_id, hookStartSec=0.5)[0] == 202


def test_a_job_in_flight_longer_than_any_render_can_take_no_longer_holds_a_place(
    api: Api, media_module: Media, settings_env: Any
) -> None:
    from casset.clock import utcnow
    from casset.data import exports as exports_data
    from casset.data.tables import ExportItem
    from casset.services.exports import plan_export
    from casset.services.tracks import get_track

    stage = _stage(api, media_module)
    settings_env(EXPORT_MAX_IN_FLIGHT="1")
    plan = plan_export(get_track(stage.track_id), 6.5, 5, None, None, "standard")
    stale, _ = exports_data.create_export(support.fresh("stale"), plan, "someone")
    ExportItem(id=stale.id).update(actions=[ExportItem.in_flight_since.set(utcnow() - timedelta(hours=2))])

    try:
        assert _export(api, stage.user_id, stage.track_id, hookStartSec=1.5)[0] == 202
    finally:
        exports_data.fail(stale.id, "TEST", "ended by the test")


class _Clock:
    """The rate limiter's clock, set by the test (casset.data.rate_limits reads time.time())."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def _fresh_hour() -> float:
    """The start of an hour no other test uses, so every budget starts empty."""
    return 2_000_000_000 - 2_000_000_000 % 3600 + 3600 * int.from_bytes(os.urandom(3))


def test_the_render_budget_slides_across_the_hour(
    api: Api, media_module: Media, settings_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import rate_limits

    stage = _stage(api, media_module)
    settings_env(EXPORT_RENDERS_PER_HOUR="2")
    hour = _fresh_hour()
    clock = _Clock(hour + 3590)
    monkeypatch.setattr(rate_limits, "time", clock)
    # Given a user who started their two renders in the last ten seconds of an hour
    _exported(api, stage.user_id, stage.track_id, hookStartSec=0.125)
    _exported(api, stage.user_id, stage.track_id, hookStartSec=0.375)

    # When they start another ten seconds into the next hour
    clock.now = hour + 3600 + 10
    status, body, headers = _export(api, stage.user_id, stage.track_id, hookStartSec=0.625)

    # Then the last hour still holds both: refused, until the earlier hour's weight falls to one render
    # (half-way through the new hour)
    assert (status, body["code"]) == (429, "RENDER_BUDGET_EXCEEDED")
    assert int(headers["Retry-After"]) == 1790
    clock.now = hour + 3600 + 1800
    assert _export(api, stage.user_id, stage.track_id, hookStartSec=0.625)[0] == 202


def test_counting_renders_in_flight_reads_one_page_of_the_index(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection.table import TableConnection

    from casset.clock import utcnow
    from casset.data import exports as exports_data
    from casset.services.exports import plan_export
    from casset.services.tracks import get_track

    stage = _stage(api, media_module)
    since = utcnow() - timedelta(seconds=1)
    track = get_track(stage.track_id)
    jobs = [
        exports_data.create_export(
            support.fresh("counted"), plan_export(track, start, 5, None, None, "low"), "x"
        )[0]
        for start in (0.5, 1.5, 2.5)
    ]
    queries: list[dict[str, Any]] = []
    real_query = TableConnection.query

    def counted_query(self: TableConnection, *args: Any, **kwargs: Any) -> Any:
        queries.append(kwargs)
        return real_query(self, *args, **kwargs)

    monkeypatch.setattr(TableConnection, "query", counted_query)
    try:
        assert exports_data.count_in_flight(since, 2) == 2
        assert [(query["select"], query["limit"]) for query in queries] == [("COUNT", 2)]
    finally:
        for job in jobs:
            exports_data.fail(job.id, "TEST", "ended by the test")


def _job_of(stage: support.Artist, start: float, requested_by: str) -> tuple[str, Any]:
    """An export job of the track's audio from `start`, written as another request would have."""
    from casset.data import exports as exports_data
    from casset.services.exports import export_id_for, plan_export
    from casset.services.tracks import get_track

    plan = plan_export(get_track(stage.track_id), start, HOOK_SECONDS, None, None, "low")
    job, created = exports_data.create_export(export_id_for(plan), plan, requested_by)
    assert created
    return job.id, job


def _read_first_as(monkeypatch: pytest.MonkeyPatch, seen: Any) -> None:
    """The request's first read of the job returns `seen` (what it read before a racing request wrote)."""
    from casset.services import exports

    real = exports.exports_data.get_export
    reads: list[str] = []

    def racing_read(export_id: str) -> Any:
        reads.append(export_id)
        return seen if len(reads) == 1 else real(export_id)

    monkeypatch.setattr(exports.exports_data, "get_export", racing_read)


def test_a_request_that_loses_the_race_to_create_a_render_pays_nothing(
    api: Api, media_module: Media, settings_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import exports as exports_data
    from casset.data import rate_limits

    stage = _stage(api, media_module)
    settings_env(EXPORT_RENDERS_PER_HOUR="1")
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    # Given an identical request that created the job just after this one found none
    export_id, _ = _job_of(stage, 4.0, "someone-else")
    _read_first_as(monkeypatch, None)
    try:
        # When this one asks for it
        status, job, _ = _export(api, stage.user_id, stage.track_id, hookStartSec=4.0)
        # Then it gets the winner's job, and its budget of one render is untouched
        assert (status, job["id"]) == (202, export_id)
        assert _export(api, stage.user_id, stage.track_id, hookStartSec=3.0)[0] == 202
    finally:
        exports_data.fail(export_id, "TEST", "ended by the test")


def test_a_request_that_loses_the_race_to_requeue_a_failed_render_pays_nothing(
    api: Api, media_module: Media, settings_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import exports as exports_data
    from casset.data import rate_limits

    stage = _stage(api, media_module)
    settings_env(EXPORT_RENDERS_PER_HOUR="1")
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    # Given a FAILED job that another request queued again just after this one read it FAILED
    export_id, _ = _job_of(stage, 4.5, "someone-else")
    assert exports_data.fail(export_id, "TEST", "failed for the test")
    seen_failed = exports_data.get_export(export_id)
    assert exports_data.requeue_failed(export_id) is not None
    _read_first_as(monkeypatch, seen_failed)
    try:
        # When this one asks for it
        status, job, _ = _export(api, stage.user_id, stage.track_id, hookStartSec=4.5)
        # Then it gets the job the winner queued, and its budget of one render is untouched
        assert (status, job["id"], job["status"]) == (202, export_id, "QUEUED")
        assert _export(api, stage.user_id, stage.track_id, hookStartSec=3.5)[0] == 202
    finally:
        exports_data.fail(export_id, "TEST", "ended by the test")


def test_a_budget_spent_between_its_price_and_the_write_writes_nothing(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from casset.data import exports as exports_data
    from casset.data import rate_limits
    from casset.services.exports import export_id_for, plan_export
    from casset.services.tracks import get_track

    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    budget = rate_limits.Budget(support.fresh("renders#"), 1, 3600)
    # Given a price read while the budget had room, and a concurrent request that then took the room
    priced = rate_limits.quote(budget)
    assert rate_limits.take(budget) is None
    plan = plan_export(get_track(stage.track_id), 5.5, HOOK_SECONDS, None, None, "low")

    # When the job is written with that charge
    with pytest.raises(rate_limits.BudgetSpent) as spent:
        exports_data.create_export(export_id_for(plan), plan, "someone", priced)

    # Then nothing was written, and the wait is the budget's
    assert exports_data.get_export(export_id_for(plan)) is None
    assert spent.value.wait_sec == pytest.approx(3540 + 3600)  # the hit's weight is gone an hour on


def test_a_transaction_conflict_with_an_identical_request_is_run_again(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections.abc import Iterator
    from contextlib import contextmanager

    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    from casset.data import exports as exports_data
    from casset.data import rate_limits
    from casset.services.exports import export_id_for, plan_export
    from casset.services.tracks import get_track

    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    budget = rate_limits.Budget(support.fresh("renders#"), 2, 3600)
    plan = plan_export(get_track(stage.track_id), 6.5, HOOK_SECONDS, None, None, "low")
    real_transaction = exports_data.transaction
    attempts: list[int] = []

    class Dropped:
        def save(self, *args: Any, **kwargs: Any) -> None: ...
        def update(self, *args: Any, **kwargs: Any) -> None: ...

    @contextmanager
    def conflicting_once(client_request_token: str | None = None) -> Iterator[Any]:
        attempts.append(1)
        if len(attempts) > 1:
            with real_transaction(client_request_token) as writer:
                yield writer
            return
        yield Dropped()
        raise TransactWriteError(
            "cancelled",
            cause=VerboseClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"}},
                "TransactWriteItems",
                cancellation_reasons=[CancellationReason("TransactionConflict"), None],
            ),
        )

    # Given DynamoDB cancelling the first try: it met an identical request's transaction on the item
    monkeypatch.setattr(exports_data, "transaction", conflicting_once)

    # When the job is written with its charge
    job, created = exports_data.create_export(export_id_for(plan), plan, "someone", rate_limits.quote(budget))

    # Then the second try wrote the job and charged the budget once (one of two hits left)
    try:
        assert created and len(attempts) == 2 and exports_data.get_export(job.id) is not None
        assert rate_limits.take(budget) is None and rate_limits.take(budget) is not None
    finally:
        exports_data.fail(job.id, "TEST", "ended by the test")


def _cancelled(*codes: str | None) -> Any:
    """The error PynamoDB raises for a TransactWriteItems that DynamoDB cancelled, one reason an item."""
    from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

    return TransactWriteError(
        "Failed to write transaction items",
        cause=VerboseClientError(
            {"Error": {"Code": "TransactionCanceledException", "Message": ", ".join(map(str, codes))}},
            "TransactWriteItems",
            cancellation_reasons=[CancellationReason(code) if code else None for code in codes],
        ),
    )


def test_every_run_of_a_charged_export_carries_one_client_request_token(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pynamodb.connection import Connection

    from casset.data import rate_limits

    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    real_transact = Connection.transact_write_items
    tokens: list[str | None] = []

    def conflicting_once(self: Connection, *args: Any, **options: Any) -> Any:
        tokens.append(options.get("client_request_token"))
        if len(tokens) == 1:
            raise _cancelled("TransactionConflict", None)
        return real_transact(self, *args, **options)

    # Given DynamoDB cancelling the first run of the export's transaction (it met another on the item)
    monkeypatch.setattr(Connection, "transact_write_items", conflicting_once)

    # When the export is asked for
    status, job, _ = _export(api, stage.user_id, stage.track_id, hookStartSec=3.25)

    # Then both runs sent one ClientRequestToken: a run botocore retries after losing its answer is
    # DynamoDB's idempotent replay, not a run cancelled by its own first attempt's writes
    assert status == 202 and job["status"] == "QUEUED", job
    assert len(tokens) == 2 and tokens[0] and tokens[0] == tokens[1], tokens
    # And another transaction gets a token of its own
    assert _export(api, stage.user_id, stage.track_id, hookStartSec=3.375)[0] == 202
    assert len(tokens) == 3 and tokens[2] not in (None, tokens[0]), tokens


@pytest.mark.parametrize("reason", ["ThrottlingError", "ProvisionedThroughputExceeded"])
def test_a_charge_cancelled_for_throttling_is_a_503_and_writes_nothing(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch, reason: str
) -> None:
    from pynamodb.connection import Connection

    from casset.data import rate_limits

    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))

    def throttled(self: Connection, *args: Any, **options: Any) -> Any:
        raise _cancelled(None, reason)

    # Given DynamoDB cancelling the export's transaction: the budget's counter was throttled
    monkeypatch.setattr(Connection, "transact_write_items", throttled)

    # When the export is asked for
    status, body, _ = _export(api, stage.user_id, stage.track_id, hookStartSec=4.0)

    # Then the caller is told to retry (503 UNAVAILABLE), not that the server broke, and no job exists
    assert (status, body["code"]) == (503, "UNAVAILABLE"), body
    assert _exports_of_track(stage.track_id) == []


def _refund_meets_transactions(monkeypatch: pytest.MonkeyPatch, times: int) -> list[str]:
    """The render queue down, and the first `times` refunds of a render budget's hit cancelled by a
    transaction on the counter (TransactionConflictException). Returns the refunded counters' keys, one an
    attempt."""
    from pynamodb.exceptions import UpdateError, VerboseClientError

    from casset.data.tables import RateLimitItem
    from casset.errors import Unavailable
    from casset.services import exports

    def down(export_id: str) -> None:
        raise Unavailable("The render queue is down.")

    real_update = RateLimitItem.update
    attempts: list[str] = []

    def conflicting(self: RateLimitItem, *args: Any, **options: Any) -> Any:
        if self.key.startswith("renders#"):
            attempts.append(self.key)
            if len(attempts) <= times:
                raise UpdateError(
                    "Failed to update item",
                    cause=VerboseClientError(
                        {"Error": {"Code": "TransactionConflictException", "Message": "in a transaction"}},
                        "UpdateItem",
                    ),
                )
        return real_update(self, *args, **options)

    monkeypatch.setattr(exports.queue, "enqueue_render", down)
    monkeypatch.setattr(RateLimitItem, "update", conflicting)
    return attempts


def test_a_refund_that_meets_a_transaction_is_run_again(
    api: Api, media_module: Media, monkeypatch: pytest.MonkeyPatch, settings_env: Any
) -> None:
    from casset.data import rate_limits
    from casset.services import exports

    # Given a budget of one render, the render queue down, and the refund meeting a transaction once
    settings_env(EXPORT_RENDERS_PER_HOUR="1")
    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    attempts = _refund_meets_transactions(monkeypatch, times=1)

    # When the export is asked for, and again once the queue is back
    failed = _export(api, stage.user_id, stage.track_id, hookStartSec=4.5)
    monkeypatch.setattr(exports.queue, "enqueue_render", lambda export_id: None)
    again = _export(api, stage.user_id, stage.track_id, hookStartSec=4.5)

    # Then the first was a 503 whose charge was given back on the second try: the budget had room again
    assert failed[0] == 503, failed
    assert len(attempts) == 2
    assert (again[0], again[1]["status"]) == (202, "QUEUED"), again


def test_a_refund_that_keeps_meeting_transactions_leaves_the_503_and_is_logged(
    api: Api,
    media_module: Media,
    monkeypatch: pytest.MonkeyPatch,
    settings_env: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from casset.data import rate_limits

    # Given the render queue down, and every refund meeting a transaction on the budget's counter
    settings_env(EXPORT_RENDERS_PER_HOUR="1")
    stage = _stage(api, media_module)
    monkeypatch.setattr(rate_limits, "time", _Clock(_fresh_hour() + 60))
    attempts = _refund_meets_transactions(monkeypatch, times=1_000)

    # When the export is asked for
    status, body, _ = _export(api, stage.user_id, stage.track_id, hookStartSec=5.0)

    # Then the caller gets the queue's 503, not the refund's failure, and the lost refund is logged
    assert (status, body["code"]) == (503, "UNAVAILABLE"), body
    assert len(attempts) > 1
    assert "Render refund failed" in caplog.text


# The track or artist behind an id is gone: still the id's own 404


def test_an_export_whose_artist_profile_is_gone_is_not_found_by_outsiders(
    api: Api, media_module: Media
) -> None:
    stage = _stage(api, media_module)
    job = _exported(api, stage.user_id, stage.track_id, hookStartSec=6, hookDurationSec=6)
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["USERS_TABLE"], Key={"id": {"S": stage.user_id}}
    )

    assert support.error_code(_read(api, _fan(api), job["id"])) == (404, "EXPORT_NOT_FOUND")


def test_a_visual_whose_track_is_gone_is_not_found(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    visual_id = _visual(api, stage, media_module)
    boto3.client("dynamodb").delete_item(
        TableName=os.environ["TRACKS_TABLE"], Key={"id": {"S": stage.track_id}}
    )
    someone = support.create_profile(api, artist=True)
    their_track = support.create_track(api, someone)["track"]["id"]

    read = api("GET", f"/api/visuals/{visual_id}", user=someone)
    reused = api(
        "POST", f"/api/tracks/{their_track}/visuals", user=someone, body={"reuseVisualId": visual_id}
    )

    assert support.error_code(read) == support.error_code(reused) == (404, "VISUAL_NOT_FOUND")


# One visibility rule for visuals named by id


def test_another_artists_unready_visual_is_not_found_on_every_path(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    archived = _visual(api, stage, media_module)
    api("POST", f"/api/tracks/{stage.track_id}/visuals/{archived}/archive", user=stage.user_id)
    processing = support.start_visual(api, stage.user_id, stage.track_id)["visual"]["id"]
    fan = _fan(api)

    for visual_id in (archived, processing):
        read = api("GET", f"/api/visuals/{visual_id}", user=fan)
        exported = _export(api, fan, stage.track_id, visualAssetId=visual_id)
        by_query = api(
            "POST",
            "/api/hooks/tiktok-video",
            user=fan,
            body={"trackId": stage.track_id},
            query={"v": visual_id},
        )
        shared = _share(api, fan, stage.track_id, visualAssetId=visual_id)
        for reply in (read, exported, by_query, shared):
            assert support.error_code(reply) == (404, "VISUAL_NOT_FOUND"), reply[1]
            assert reply[1]["message"] == "No such visual."
        # Its artist still learns why it cannot be used.
        assert support.error_code(_export(api, stage.user_id, stage.track_id, visualAssetId=visual_id)) == (
            409,
            "VISUAL_NOT_READY",
        )


def test_reusing_someone_elses_unready_visual_is_not_found_either(api: Api, media_module: Media) -> None:
    stage = _stage(api, media_module)
    archived = _visual(api, stage, media_module)
    api("POST", f"/api/tracks/{stage.track_id}/visuals/{archived}/archive", user=stage.user_id)
    processing = support.start_visual(api, stage.user_id, stage.track_id)["visual"]["id"]
    ready = _visual(api, stage, media_module)
    someone = support.create_profile(api, artist=True)
    their_track = support.create_track(api, someone)["track"]["id"]

    def reuse(visual_id: str) -> support.Reply:
        return api(
            "POST", f"/api/tracks/{their_track}/visuals", user=someone, body={"reuseVisualId": visual_id}
        )

    for hidden in (archived, processing):
        assert support.error_code(reuse(hidden)) == (404, "VISUAL_NOT_FOUND")
    assert support.error_code(reuse(ready)) == (403, "VISUAL_NOT_OWNED")  # anyone may see a READY one
