"""Many events at ONE visual: how fast the API accepts them, whether the counters are exact once the
aggregator settles, and how many writes the hot visual's item took.

`python -m bench.metrics [--events N] [--containers C]` starts the tests' stack (the template's tables,
queues and bus, built by infra/local as `make dev` does) behind a moto server on loopback, makes an
artist, a track and one READY visual through the real API, and switches the aggregator's SQS trigger
off so events pile up as in a burst. Then C processes, each standing for one API Lambda container (the
Powertools resolver holds per-invocation state, so like Lambda each process serves one request at a
time), POST N events through the real API handler: 70 % impressions from 1,000 anonymous and 200
signed-in viewers who come back (so many impressions repeat), the rest pairings, exports and shares,
plus a refresh-loop bot. Accepted events/s is measured from the first start to the last answer.

The queued events are then delivered to the real aggregator handler in batches of 99 (the template's
BatchSize), as Lambda's poller would, with forced redeliveries: every third batch twice (a crash after
the write, before SQS deleted the messages) and every fourth with 20 already-settled messages again.
Expected counts are the 202 answers that said counted: true; the counter error is the visual's counters
(as the artist reads them) minus those, and must be 0. Hot-item writes are the DynamoDB write calls
touching the visual's item, counted inside the moto server, so the API processes' calls are included.

moto is not DynamoDB: every call costs milliseconds of Python, so events/s here measures moto more than
the code (a profile puts ~90 % of a request in moto and botocore); the relative figures (events per
write, exactness under redelivery) are the point. The last line is the summary, e.g.
`metrics 4000 events at 1 visual: accepted 25 ev/s (4 API processes on moto), counted ... counter error 0;
hot-item writes 67 (...)`
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import socket
import tempfile
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.dynamodb.models import DynamoDBBackend

from tests.conftest import http_event
from tests.media_factory import make_video

BATCH_SIZE = 99
REDELIVERED_PER_BATCH = 20
TYPE_MIX = [("impression", 0.70), ("pairing", 0.10), ("export", 0.10), ("share", 0.10)]
COUNTER_OF = {"impression": "impressions", "pairing": "pairings", "export": "exports", "share": "shares"}


class HotItemWrites:
    """Counts the DynamoDB writes that touch one item, inside the moto server (so every process's calls,
    the request path's included, are seen): TransactWriteItems touching it, UpdateItem, PutItem."""

    def __init__(self, table: str, item_id: str):
        self.table, self.item_id = table, item_id
        self.calls: Counter[str] = Counter()  # attempts, by operation
        self.committed = 0
        self._lock = threading.Lock()
        self._inside = threading.local()
        self._originals = {name: getattr(DynamoDBBackend, name) for name in self._PATCHED}

    _PATCHED = ("transact_write_items", "update_item", "put_item", "delete_item")

    def __enter__(self) -> HotItemWrites:
        for name, original in self._originals.items():
            setattr(DynamoDBBackend, name, self._counting(name, original))
        return self

    def __exit__(self, *_: object) -> None:
        for name, original in self._originals.items():
            setattr(DynamoDBBackend, name, original)

    def _counting(self, name: str, original: Any) -> Any:
        def counting(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
            # moto carries out a transaction's updates with its own update_item: count the API call only.
            outermost = not getattr(self._inside, "call", False)
            touches = outermost and self._touches(name, args, kwargs)
            if touches:
                with self._lock:
                    self.calls[name] += 1
            self._inside.call = True
            try:
                result = original(backend, *args, **kwargs)
            finally:
                if outermost:
                    self._inside.call = False
            if touches:  # no exception: the write happened (a cancelled transaction raises)
                with self._lock:
                    self.committed += 1
            return result

        return counting

    def _touches(self, name: str, args: tuple, kwargs: dict) -> bool:
        mine = {"S": self.item_id}
        if name == "transact_write_items":
            items = kwargs.get("transact_items", args[0] if args else [])
            return any(
                op.get("TableName") == self.table
                and (op.get("Key") or op.get("Item") or {}).get("id") == mine
                for item in items
                for op in item.values()
            )
        table = kwargs.get("table_name", args[0] if args else None)
        key = kwargs.get("key", kwargs.get("item_attrs", args[1] if len(args) > 1 else {}))
        return table == self.table and key.get("id") == mine

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def _call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext

    ip, agent = kwargs.pop("ip", "127.0.0.1"), kwargs.pop("agent", "bench")
    event = http_event(method, path, **kwargs)
    event["requestContext"]["http"].update(sourceIp=ip, userAgent=agent)
    response = lambda_handler(event, LambdaContext("api", 512, 15))
    body = response.get("body")
    return response["statusCode"], json.loads(body) if body else None


def _make_visual(workdir: Path) -> tuple[str, str]:
    artist = "bench-artist"
    status, _ = _call(
        "POST", "/api/users", user=artist, body={"handle": "bench", "displayName": "B", "isArtist": True}
    )
    assert status == 201
    status, track = _call("POST", "/api/tracks", user=artist, body={"title": "Hot"})
    assert status == 201, track
    track_id = track["track"]["id"]
    status, created = _call(
        "POST", f"/api/tracks/{track_id}/visuals", user=artist, body={"contentType": "video/mp4"}
    )
    assert status == 201, created
    clip = make_video(workdir / "loop.mp4", seconds=0.5, width=64, height=112, fps=8).read_bytes()
    boto3.client("s3").put_object(
        Bucket=os.environ["MEDIA_BUCKET"], Key=created["upload"]["key"], Body=clip, ContentType="video/mp4"
    )
    visual_id = created["visual"]["id"]
    status, visual = _call("GET", f"/api/visuals/{visual_id}")
    assert status == 200 and visual["status"] == "READY", visual
    return artist, visual_id


def _pause_aggregator() -> None:
    """Switch the queue's trigger off: events wait on the queue, as during a burst."""
    lambda_client = boto3.client("lambda")
    queue = os.environ["METRICS_QUEUE_URL"].rsplit("/", 1)[1]
    for mapping in lambda_client.list_event_source_mappings()["EventSourceMappings"]:
        if mapping["EventSourceArn"].endswith(f":{queue}"):
            lambda_client.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


def _plan(events: int, seed: int) -> list[dict[str, Any]]:
    """Who fires what: 1,000 anonymous and 200 signed-in viewers who come back (so many impressions
    repeat), and a refresh-loop bot sending 2 % of all events, impressions only (it meets the rate limit)."""
    rng = random.Random(seed)
    anonymous = [(f"198.51.{i // 250}.{i % 250}", f"Agent/{i % 7}") for i in range(1000)]
    signed_in = [f"fan-{i}" for i in range(200)]
    kinds, weights = zip(*TYPE_MIX, strict=True)
    # Pairings are accepted from signed-in callers only.
    anonymous_kinds, anonymous_weights = zip(*[mix for mix in TYPE_MIX if mix[0] != "pairing"], strict=True)
    plan: list[dict[str, Any]] = []
    for _ in range(events):
        draw = rng.random()
        if draw < 0.02:
            plan.append({"kind": "impression", "ip": "192.0.2.1", "agent": "RefreshLoop/1.0"})
        elif draw < 0.27:
            plan.append({"kind": rng.choices(kinds, weights)[0], "user": rng.choice(signed_in)})
        else:
            ip, agent = rng.choice(anonymous)
            plan.append(
                {"kind": rng.choices(anonymous_kinds, anonymous_weights)[0], "ip": ip, "agent": agent}
            )
    return plan


def _fire(visual_id: str, shot: dict[str, Any]) -> tuple[str, int, bool]:
    user = shot.get("user")
    path = f"/api/me/visuals/{visual_id}/event" if user else f"/api/visuals/{visual_id}/event"
    ip, agent = shot.get("ip", "127.0.0.1"), shot.get("agent", "")
    status, body = _call("POST", path, user=user, body={"type": shot["kind"]}, ip=ip, agent=agent)
    return shot["kind"], status, bool(status == 202 and body["counted"])


def _container(
    environment: dict[str, str], visual_id: str, shots: list[dict], barrier: Any, results: Any
) -> None:
    """One Lambda container: the API handler warmed up, then its share of the events, one at a time."""
    os.environ.update(environment)  # importing tests.conftest resets the endpoint; the stack's wins
    warnings.filterwarnings("ignore", message="No application metrics")
    _call("GET", f"/api/visuals/{visual_id}")  # imports, clients, the visual read once
    barrier.wait()
    started = time.time()
    answers = [_fire(visual_id, shot) for shot in shots]
    results.put((answers, started, time.time()))


def _fire_all(visual_id: str, plan: list[dict], containers: int) -> tuple[list[tuple[str, int, bool]], float]:
    """The plan split over `containers` processes started together; returns the answers and the wall time
    from the first start to the last finish."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(containers), context.Queue()
    processes = [
        context.Process(
            target=_container, args=(dict(os.environ), visual_id, plan[i::containers], barrier, results)
        )
        for i in range(containers)
    ]
    for process in processes:
        process.start()
    finished = [results.get(timeout=1800) for _ in processes]
    for process in processes:
        process.join()
    answers = [answer for chunk, _, _ in finished for answer in chunk]
    return answers, max(end for _, _, end in finished) - min(start for _, start, _ in finished)


@contextmanager
def _moto_server() -> Iterator[None]:
    """The tests' stack (the template's tables, queues, bus, in-process handlers) behind a moto server on
    loopback, so several processes share it, as make dev does."""
    from moto.server import ThreadedMotoServer

    from casset.settings import get_settings
    from infra.local.blueprint import REGION, blueprint
    from infra.local.functions import install_environment
    from infra.local.moto_patches import patch_moto
    from infra.local.provision import provision

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    plan = blueprint()
    saved = dict(os.environ)
    local = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    install_environment(plan, extra=local)
    get_settings.cache_clear()
    provision(plan)
    undo = patch_moto(plan, asynchronous=False)
    try:
        yield
    finally:
        undo()
        server.stop()
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


class Poller:
    """Takes the messages off the metrics queue as they arrive, into `taken`, as Lambda's poller would.
    Read from moto's backend under its lock: moto rescans every message on a queue at each SendMessage
    and ReceiveMessage (to compute queue attributes), so a queue thousands deep would make moto, not the
    code under test, the bottleneck."""

    def __init__(self) -> None:
        from moto.sqs.models import sqs_backends

        from infra.local.blueprint import ACCOUNT_ID, REGION

        name = os.environ["METRICS_QUEUE_URL"].rsplit("/", 1)[1]
        self.queue = sqs_backends[ACCOUNT_ID][REGION].get_queue(name)
        self.taken: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._take()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._take()

    def _take(self) -> None:
        with self.queue._messages_lock:
            messages, self.queue._messages = self.queue._messages, []
        self.taken += [_record(message.id, message.body, self.queue.queue_arn) for message in messages]


def _record(message_id: str, body: str, queue_arn: str) -> dict:
    return {
        "messageId": message_id,
        "receiptHandle": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1", "SenderId": "bench"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def _drain(queued: list[dict], seed: int) -> Counter[str]:
    """Deliver the queued events to the real aggregator in batches of 99, as Lambda's poller would, plus
    forced redeliveries: every third batch twice, every fourth with 20 already-settled messages again.
    Messages the aggregator reports failed go back in line, as SQS would return them."""
    from infra.local.functions import LambdaContext
    from metrics.handler import lambda_handler

    rng = random.Random(seed)
    pending = list(queued)
    settled: list[dict] = []
    stats = Counter[str](messages=len(pending))
    batch_number = 0
    while pending:
        again = rng.sample(settled, min(REDELIVERED_PER_BATCH, len(settled))) if batch_number % 4 == 3 else []
        fresh, pending = pending[: BATCH_SIZE - len(again)], pending[BATCH_SIZE - len(again) :]
        batch = fresh + again
        deliveries = 2 if batch_number % 3 == 2 else 1
        stats["redelivered"] += len(again) + (len(batch) if deliveries == 2 else 0)
        for _ in range(deliveries):
            answer = lambda_handler({"Records": batch}, LambdaContext("aggregator", 512, 60))
            failed = {failure["itemIdentifier"] for failure in answer["batchItemFailures"]}
            stats["invocations"] += 1
            stats["failed"] += len(failed)
        pending += [record for record in fresh if record["messageId"] in failed]
        settled += [record for record in fresh if record["messageId"] not in failed]
        batch_number += 1
    return stats


def _quiet_the_local_tap() -> None:
    """The local stack's tap queue (make dev's analytics stand-in) would copy every event into another
    moto queue, whose cost grows with its length; the bus keeps no other rule, so PutEvents still runs."""
    from infra.local.provision import tap_queue

    bus = os.environ["METRICS_EVENT_BUS"]
    boto3.client("events").remove_targets(Rule=tap_queue(bus), EventBusName=bus, Ids=["tap"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--containers", type=int, default=4, help="API processes firing at once")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as workdir, _moto_server():
        artist, visual_id = _make_visual(Path(workdir))
        _pause_aggregator()
        _quiet_the_local_tap()
        plan = _plan(args.events, args.seed)
        with HotItemWrites(os.environ["VISUALS_TABLE"], visual_id) as during_requests, Poller() as queue:
            answers, firing_sec = _fire_all(visual_id, plan, args.containers)
        statuses = Counter(status for _, status, _ in answers)
        expected = Counter(COUNTER_OF[kind] for kind, _, counted in answers if counted)
        duplicates = sum(1 for _, status, counted in answers if status == 202 and not counted)
        accepted = statuses[202] / firing_sec
        print(
            f"fired {args.events} events in {firing_sec:.2f} s from {args.containers} API processes: "
            f"statuses {dict(sorted(statuses.items()))}, "
            f"{duplicates} repeated impressions (202, not counted); "
            f"writes on the visual's item meanwhile: {during_requests.total}"
        )

        with HotItemWrites(os.environ["VISUALS_TABLE"], visual_id) as during_drain:
            started = time.perf_counter()
            drained = _drain(queue.taken, args.seed)
            drain_sec = time.perf_counter() - started
        _, visual = _call("GET", f"/api/studio/visuals/{visual_id}", user=artist)
        counted = {name: int(visual["metrics"][name]) for name in COUNTER_OF.values()}
        error = {name: counted[name] - expected[name] for name in counted}
        total_error = sum(abs(value) for value in error.values())
        events_counted = sum(counted.values())
        hot_writes = during_drain.total + during_requests.total
        committed = during_drain.committed + during_requests.committed
        print(
            f"drained {drained['messages']} messages in {drain_sec:.2f} s: {drained['invocations']} "
            f"aggregator invocations, {drained['redelivered']} messages delivered again, "
            f"{drained['failed']} reported failed; writes on the visual's item: {dict(during_drain.calls)}, "
            f"{committed} committed, {hot_writes - committed} cancelled by already-counted events"
        )
        print(f"counters {counted}, expected {dict(sorted(expected.items()))}, error {error}")
        print(
            f"metrics {args.events} events at 1 visual: accepted {accepted:.0f} ev/s "
            f"({args.containers} API processes on moto), counted {events_counted} = expected "
            f"{sum(expected.values())}, counter error {total_error}; hot-item writes {hot_writes} "
            f"({statuses[202] / max(hot_writes, 1):.1f} accepted events/write, "
            f"{events_counted / max(committed, 1):.1f} counted events/committed write)"
        )
        if total_error:
            raise SystemExit("counter error is not 0")


if __name__ == "__main__":
    main()
