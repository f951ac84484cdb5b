"""Runs survive their dependencies: a part a run needs is killed mid-run, and the run still ends true.

After every fault the same things hold (`assert_recovered`): the client got the terminal event;
events are gap-free, with no repeats; the status matches what landed (a revision exists exactly
when the run is done); the hold is settled at the run's cost; payments' `check_ledger` agrees;
the gateway answered no 5xx once the fault was over; and nothing is left running or queued.
"""

from __future__ import annotations

import json
import signal
import statistics
import threading
import time

import pytest
import redis
import requests

from tests.chaos.conftest import POSTGRES, REDIS
from tests.e2e.conftest import Client, fresh_ip
from tests.e2e.system import AccessLog
from tests.e2e.test_builder import (
    TERMINAL,
    WELCOME_CREDITS,
    Event,
    EventStream,
    assert_gaps_only_where_a_worker_was_lost,
    captured,
    events_url,
    eventually,
    finished,
    generation_of,
    ledger_of,
    new_project,
    open_stream,
    revisions_of,
    settled_balance,
    started,
    stream_all,
)

# A signal, not a thread: a scenario that hangs fails alone instead of ending the whole suite.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(120, method="signal")]

WORKER = "builder-worker"
# How long a fault may cost a run, end to end, before a test gives up on it.
RUN_TIMEOUT = 60
# Where the builder publishes a run's events (generations/events.py).
CHANNEL_PREFIX = "oasis:generation-events:"


@pytest.fixture
def project(gateway, auth) -> dict:
    return new_project(gateway, auth)


# ---- reading what the user sees ----


def collect(stream: EventStream, seen: list[Event], *, until=lambda event: False) -> bool:
    """Read events one at a time into `seen` until `until` takes one or the stream ends.

    Returns False when the connection broke first (what a killed server does to a client).
    """
    try:
        while batch := stream.read(until=lambda _: True):
            seen.extend(batch)
            if until(batch[-1]):
                return True
    except requests.RequestException:
        return False
    return True


def resume(gateway, auth, generation_id: str, seen: list[Event], *, timeout: float = RUN_TIMEOUT) -> None:
    """Reconnect as EventSource does, with Last-Event-ID the last id seen, until the terminal event."""
    deadline = time.monotonic() + timeout
    while not seen or seen[-1].type not in TERMINAL:
        assert time.monotonic() < deadline, f"no terminal event after {timeout}s; last seen {seen[-1:]}"
        headers = {**auth, "Accept": "text/event-stream", "Last-Event-ID": str(seen[-1].id if seen else 0)}
        try:
            response = gateway.get(events_url(generation_id), headers=headers, stream=True)
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if response.status_code != 200:
            response.close()
            time.sleep(0.2)
            continue
        with EventStream(response) as stream:
            collect(stream, seen)


def started_tool_call(event: Event) -> bool:
    """The run is under way: it has its snapshot, its hold, and the model is writing."""
    return event.type == "tool_call"


class Log:
    """A started process's log, read from where it stood when this was made."""

    def __init__(self, system, name: str) -> None:
        self.path = system.logs / f"{name}.log"
        self.start = self.path.stat().st_size

    def text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode(errors="replace")


# ---- what holds after every fault ----

BACKLOG = (
    "from django_tasks import TaskResultStatus as S\n"
    "from django_tasks_db.models import DBTaskResult\n"
    "from generations.models import Generation\n"
    "print(Generation.objects.filter(status__in=['queued', 'running']).count(),"
    " Generation.objects.filter(settled=False).exclude(hold_id='').count(),"
    " DBTaskResult.objects.filter(status__in=[S.READY, S.RUNNING]).count())"
)


def assert_recovered(
    system,
    gateway,
    auth,
    project: dict,
    generation_id: str,
    seen: list[Event],
    *,
    fault_over: int,
    worker_lost: bool = False,
) -> None:
    """Everything the user and an operator can see agrees, the run ended done, and the fault left nothing.

    A worker that dies takes with it the model's deltas it had published but not yet stored (at
    most its last store time's worth): live clients had them, a replay has not, and the run's next
    event (`requeued`) is numbered after them. Any other fault costs no event at all.
    """
    generation = finished(gateway, auth, generation_id, timeout=RUN_TIMEOUT)
    # The client received the terminal event, and every event exactly once, in order.
    assert seen[-1].type == generation["status"] == "done", generation["error"]
    replay = stream_all(gateway, auth, generation_id)
    if not worker_lost:
        assert [event.id for event in seen] == list(range(1, len(seen) + 1)), [event.id for event in seen]
        assert [(event.id, event.type, event.data) for event in replay] == [
            (event.id, event.type, event.data) for event in seen
        ]
    else:
        assert_gaps_only_where_a_worker_was_lost(seen)
        assert_gaps_only_where_a_worker_was_lost(replay)
        # The replay is what the client saw, less deltas the lost worker had not stored.
        stored = {event_key(event) for event in replay}
        assert stored <= {event_key(event) for event in seen}, (replay, seen)
        lost = [event for event in seen if event_key(event) not in stored]
        assert all(event.type in ("text", "tool_call") for event in lost), lost
    # The status is true to what landed: a revision exists exactly when the run is done.
    landed = [
        revision
        for revision in revisions_of(gateway, auth, project)
        if revision["author"].get("generation_id") == generation_id
    ]
    assert [revision["number"] for revision in landed] == [generation["revision"]] == [1]
    # The hold is settled at the run's cost, and payments' books agree with themselves.
    balance = settled_balance(gateway, auth, timeout=15)
    assert balance == {
        "balance": WELCOME_CREDITS - generation["cost"],
        "held": 0,
        "available": WELCOME_CREDITS - generation["cost"],
    }
    assert captured(ledger_of(gateway, auth, generation_id)) == generation["cost"] > 0
    assert "agree" in system.manage("payments", "check_ledger")
    # Nothing running, queued or owed a settlement, in the builder or its queue.
    eventually(
        lambda: system.manage("builder", "shell", "-c", BACKLOG).splitlines()[-1].split(),
        lambda counts: counts == ["0", "0", "0"],
        timeout=20,
        what="no run running, queued or unsettled, and no queue row open",
    )
    assert AccessLog(system).server_errors_since(fault_over) == []


def event_key(event: Event) -> tuple:
    return event.id, event.type, json.dumps(event.data, sort_keys=True)


# ---- the faults ----


def test_a_worker_killed_mid_run_is_queued_again_once_and_ends_done(system, gateway, auth, project):
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        system.stop_process(WORKER, signal.SIGKILL)
        # A crash, not a pause: the next worker is a new process, which finds the run by sweeping.
        system.start_builder_worker()
        fault_over = AccessLog(system).mark()
        assert collect(stream, seen), "the stream broke although the builder web process was up"

    assert_recovered(
        system, gateway, auth, project, generation["id"], seen, fault_over=fault_over, worker_lost=True
    )
    requeued = [event for event in seen if event.type == "status" and event.data.get("requeued")]
    assert [event.data["reason"] for event in requeued] == ["worker_lost"]


def test_projects_killed_while_a_finished_build_is_saved_lands_it_once_when_it_returns(
    system, gateway, auth, project
):
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    worker = Log(system, WORKER)
    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        system.stop_process("projects", signal.SIGKILL)
        # The run has its snapshot; the next call it makes to projects is the landing.
        eventually(
            worker.text,
            lambda text: "projects is unavailable" in text,
            timeout=30,
            what="the finished build trying to land while projects is down",
        )
        assert seen[-1].type not in TERMINAL
        system.start_service("projects")
        fault_over = AccessLog(system).mark()
        assert collect(stream, seen)

    assert_recovered(system, gateway, auth, project, generation["id"], seen, fault_over=fault_over)


def test_payments_killed_as_a_run_ends_settles_the_hold_within_seconds_of_its_return(
    system, gateway, auth, project
):
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    worker = Log(system, WORKER)
    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        system.stop_process("payments", signal.SIGKILL)
        # The run's status is final at once, although its hold cannot be settled yet.
        assert collect(stream, seen)
    assert seen[-1].type == "done"
    eventually(
        worker.text,
        lambda text: "payments is unavailable" in text,
        timeout=10,
        what="the ended run trying to settle while payments is down",
    )

    system.start_service("payments")
    back = time.monotonic()
    fault_over = AccessLog(system).mark()
    settled_balance(gateway, auth, timeout=10)

    assert time.monotonic() - back < 10
    assert_recovered(system, gateway, auth, project, generation["id"], seen, fault_over=fault_over)


def test_a_stream_whose_builder_process_is_killed_resumes_with_last_event_id_and_sees_every_event_once(
    system, gateway, auth, project
):
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        system.stop_process("builder", signal.SIGKILL)
        assert not collect(stream, seen), "the stream ended cleanly although its server was killed"
    assert seen[-1].type not in TERMINAL, "the run ended before its stream was cut"
    cut_at = seen[-1].id

    system.start_service("builder")
    fault_over = AccessLog(system).mark()
    resume(gateway, auth, generation["id"], seen)

    assert len(seen) > cut_at
    assert_recovered(system, gateway, auth, project, generation["id"], seen, fault_over=fault_over)


@pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (OASIS_TEST_DATABASE_URL): SQLite has no server")
def test_the_builders_database_connections_dropped_mid_run_cost_the_run_and_its_stream_nothing(
    system, gateway, auth, project
):
    fault_over = AccessLog(system).mark()  # a dropped connection may cost nothing a client sees
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    stop = threading.Event()
    terminated: list[int] = []

    looked: list[int] = []
    watcher = Client(system.url, source_ip=fresh_ip())

    def drop_connections_and_look() -> None:
        # Every few tenths of a second: drop them all, then ask for the run's status (a new request
        # on a web process whose connection was just dropped).
        while not stop.wait(0.3):
            terminated.append(system.terminate_connections("builder"))
            looked.append(
                watcher.get(f"/api/v1/builder/generations/{generation['id']}/", headers=auth).status_code
            )

    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        dropper = threading.Thread(target=drop_connections_and_look, daemon=True)
        dropper.start()
        try:
            assert collect(stream, seen), "the stream broke"
        finally:
            stop.set()
            dropper.join()

    assert sum(terminated) > 0, "no builder connection was there to drop"
    assert set(looked) == {200}, looked
    assert_recovered(system, gateway, auth, project, generation["id"], seen, fault_over=fault_over)
    assert not [event for event in seen if event.type == "status" and event.data.get("requeued")]


@pytest.mark.skipif(
    not REDIS,
    reason="the system runs without Redis on SQLite, as make test does there; set OASIS_TEST_REDIS_URL "
    "to run this against a Redis of the suite's own",
)
def test_redis_killed_mid_run_the_stream_ends_by_polling_and_live_delivery_resumes_when_it_returns(
    system, gateway, auth, project
):
    generation = started(gateway, auth, project)
    seen: list[Event] = []
    with open_stream(gateway, auth, generation["id"]) as stream:
        collect(stream, seen, until=started_tool_call)
        system.stop_process("redis", signal.SIGKILL)
        outage = AccessLog(system).mark()
        # Requests still succeed without Redis, only slower: the user can look at the run.
        assert generation_of(gateway, auth, generation["id"])["status"] in ("running", "done")
        assert collect(stream, seen), "the stream broke"
    assert seen[-1].type == "done"
    assert balance_of(gateway, auth).status_code == 200
    assert AccessLog(system).server_errors_since(outage) == []

    system.start_redis(port=redis_port(system))
    fault_over = AccessLog(system).mark()
    assert_recovered(system, gateway, auth, project, generation["id"], seen, fault_over=fault_over)

    # Live delivery resumes: every builder web process listens again, and a new run's events
    # reach its client as they are published, not at the polling pace.
    client = redis.Redis.from_url(system.redis_url)
    eventually(
        lambda: sum(int(listener["psub"]) > 0 for listener in client.client_list()),
        lambda listeners: listeners >= int(system.service_env("builder")["OASIS_WEB_WORKERS"]),
        timeout=30,
        what="the builder's event hubs subscribed to Redis again",
    )
    with Published(client) as published:
        second = started(gateway, auth, new_project(gateway, auth))
        opened = time.monotonic()
        live = stream_all(gateway, auth, second["id"])

    assert live[-1].type == "done"
    heard = {seq: at for (generation_id, seq), at in published.at.items() if generation_id == second["id"]}
    lags = [event.at - heard[event.id] for event in live if heard.get(event.id, 0) > opened]
    assert len(lags) >= 5, f"only {len(lags)} events were published to Redis after the stream opened"
    assert statistics.median(lags) < 0.5, sorted(lags)


def balance_of(gateway, auth) -> requests.Response:
    return gateway.get("/api/v1/payments/balance/", headers=auth)


def redis_port(system) -> int:
    return int(system.redis_url.rsplit(":", 1)[1].split("/")[0])


class Published:
    """When each run event was published to Redis, as a subscriber of ours heard it."""

    def __init__(self, client: redis.Redis) -> None:
        self.pubsub = client.pubsub()
        self.at: dict[tuple[str, int], float] = {}  # (generation id, event id) -> when heard
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)

    def __enter__(self) -> Published:
        self.pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
        self.pubsub.get_message(timeout=5)  # the subscription's confirmation
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.pubsub.close()

    def _listen(self) -> None:
        while not self._stop.is_set():
            message = self.pubsub.get_message(timeout=0.2)
            if message and message["type"] == "pmessage":
                generation_id = message["channel"].decode().removeprefix(CHANNEL_PREFIX)
                self.at.setdefault((generation_id, json.loads(message["data"])["seq"]), time.monotonic())
