"""Connections off the request path: a dropped one costs one retried query, never errors until a restart."""

import asyncio
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from catalog.registry import catalog_sync
from generations import events, heartbeat
from generations.connections import off_request_thread, release_connection
from generations.events import RunEvents, event_append, events_after
from generations.management.commands.generation_worker import Command as GenerationWorker
from generations.models import Event, Generation, Status


@pytest.fixture
def generation(transactional_db, user_id):
    model = catalog_sync()[0]
    return Generation.objects.create(
        user_id=user_id, project_id=uuid.uuid4(), model=model, prompt="a site", ceiling=10
    )


def on_one_thread(*calls):
    """Run coroutine factories one after another on one loop whose executor has a single thread."""

    async def main():
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(1))
        return [await call() for call in calls]

    return asyncio.run(main())


def test_a_query_that_fails_on_a_dropped_connection_is_asked_once_more_on_a_new_one(db):
    attempts = []

    def query():
        attempts.append(connection.connection is not None)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return "answer"

    assert on_one_thread(off_request_thread(query)) == ["answer"]
    assert len(attempts) == 2


def test_a_query_failing_twice_is_an_error(db):
    def query():
        raise OperationalError("server closed the connection unexpectedly")

    with pytest.raises(OperationalError):
        on_one_thread(off_request_thread(query))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the server drops connections on PostgreSQL")
def test_a_stream_read_survives_the_server_dropping_its_connection(generation):
    event_append(generation_id=generation.id, type="status", data={"status": "running"})
    read = off_request_thread(events_after)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (test_pid,) = cursor.fetchone()

    def drop_every_other_connection():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid() AND pid <> %s",
                [test_pid],
            )
        connection.close()

    async def terminate():
        # From a thread of its own, as the server would: the reader's connection is one of those dropped.
        dropper = threading.Thread(target=drop_every_other_connection)
        dropper.start()
        dropper.join()

    first, _, second = on_one_thread(
        lambda: read(generation_id=generation.id, after=0),
        terminate,
        lambda: read(generation_id=generation.id, after=0),
    )

    assert [event["seq"] for event in first] == [event["seq"] for event in second] == [1]


@pytest.fixture
def cut_next_write(monkeypatch):
    """Arms a cut: the next event write is sent, then its connection drops before it commits."""

    def arm() -> None:
        real = events._event_insert
        calls = []

        def cut_once(**kwargs):
            calls.append(kwargs["created_at"])
            if len(calls) == 1:
                raise OperationalError("server closed the connection unexpectedly")
            return real(**kwargs)

        monkeypatch.setattr(events, "_event_insert", cut_once)

    return arm


def test_an_event_write_cut_before_its_commit_is_written_once_more(generation, cut_next_write):
    cut_next_write()

    event = event_append(generation_id=generation.id, type="status", data={"status": "running"})

    assert event.seq == 1
    assert list(Event.objects.filter(generation=generation).values_list("seq", "type")) == [(1, "status")]


def test_an_event_whose_commit_landed_before_the_connection_dropped_is_not_written_twice(
    generation, monkeypatch
):
    real = events._event_insert

    def lands_then_drops(**kwargs):
        real(**kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(events, "_event_insert", lands_then_drops)

    event = event_append(generation_id=generation.id, type="text", data={"delta": "Hello"})

    assert (event.seq, event.type, event.data) == (1, "text", {"delta": "Hello"})
    assert Event.objects.filter(generation=generation).count() == 1
    assert Generation.objects.get(pk=generation.pk).event_seq == 1


def test_an_identical_earlier_event_is_not_taken_for_a_cut_write(generation, cut_next_write):
    event_append(generation_id=generation.id, type="text", data={"delta": "a"})
    cut_next_write()

    event = event_append(generation_id=generation.id, type="text", data={"delta": "a"})

    assert event.seq == 2
    assert list(Event.objects.filter(generation=generation).values_list("seq", "data")) == [
        (1, {"delta": "a"}),
        (2, {"delta": "a"}),
    ]


def test_writers_at_once_number_a_runs_events_without_a_gap_or_a_repeat(generation):
    writers, each = 4, 10

    def write(writer: int) -> None:
        try:
            for index in range(each):
                event_append(generation_id=generation.id, type="text", data={"delta": f"{writer}.{index}"})
        finally:
            connection.close()

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(write, range(writers)))

    stored = list(Event.objects.filter(generation=generation).order_by("seq").values_list("seq", "data"))
    assert [seq for seq, _ in stored] == list(range(1, writers * each + 1))
    assert sorted(data["delta"] for _, data in stored) == sorted(
        f"{writer}.{index}" for writer in range(writers) for index in range(each)
    )
    assert Generation.objects.get(pk=generation.pk).event_seq == writers * each


@pytest.mark.skipif(connection.vendor != "postgresql", reason="data-modifying CTEs are PostgreSQL's")
def test_on_postgresql_an_event_is_numbered_and_stored_in_one_statement(
    generation, django_assert_num_queries
):
    with django_assert_num_queries(1):
        event = event_append(generation_id=generation.id, type="status", data={"status": "running"})

    stored = Event.objects.get(generation=generation)
    assert (stored.pk, stored.seq, stored.type, stored.data) == (event.pk, 1, "status", {"status": "running"})
    assert stored.created_at == event.created_at


def test_an_event_of_no_generation_is_an_error_and_stores_nothing(transactional_db):
    with pytest.raises(Generation.DoesNotExist):
        event_append(generation_id=uuid.uuid4(), type="status", data={"status": "running"})

    assert not Event.objects.exists()


# ---- a running run's events: published at once, stored together ----


class Published:
    """Stands in for Redis: what was published, and how many events were stored when it was."""

    def __init__(self):
        self.messages = []
        self.announced = []  # up to which number each stored batch went
        self.failing = False

    def publish(self, channel_name, message):
        if channel_name.startswith(events.STORED_CHANNEL_PREFIX):
            self.announced.append(int(message))
        else:
            self.messages.append((json.loads(message)["seq"], Event.objects.count()))
        return not self.failing


@pytest.fixture
def published(monkeypatch):
    sink = Published()
    monkeypatch.setattr(events, "publisher", lambda: sink)
    return sink


def test_a_runs_events_are_published_before_they_are_stored_and_stored_in_one_statement(
    generation, published
):
    run = RunEvents(generation.id, store_seconds=60)
    for letter in "abc":
        run.append("text", {"delta": letter}, may_wait=True)

    assert published.messages == [(1, 0), (2, 0), (3, 0)]
    with CaptureQueriesContext(connection) as queries:
        run.store()
    statements = [
        query["sql"] for query in queries if query["sql"] not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")
    ]
    assert len(statements) == 1
    assert statements[0].startswith(f'INSERT INTO "{Event._meta.db_table}"')
    stored = Event.objects.filter(generation=generation).order_by("seq")
    assert [(event.seq, event.data["delta"]) for event in stored] == [(1, "a"), (2, "b"), (3, "c")]
    assert published.announced == [3]


def test_an_event_that_may_not_wait_is_stored_with_those_waiting_before_it_is_published(
    generation, published
):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("text", {"delta": "a"}, may_wait=True)

    assert run.append("tool_result", {"id": "c1", "ok": True}) is True

    assert published.messages == [(1, 0), (2, 2)]
    assert run.waiting == []
    assert published.announced == []  # the event published after the batch shows the stream its gap


def test_events_are_stored_once_they_have_waited_long_enough(generation, published):
    run = RunEvents(generation.id, store_seconds=0.05)

    assert run.append("text", {"delta": "a"}, may_wait=True) is False
    time.sleep(0.06)
    assert run.append("text", {"delta": "b"}, may_wait=True) is True
    assert Event.objects.filter(generation=generation).count() == 2


def test_without_redis_each_event_is_stored_at_once(generation, monkeypatch):
    monkeypatch.setattr(events, "publisher", lambda: None)
    run = RunEvents(generation.id, store_seconds=60)

    assert run.append("text", {"delta": "a"}, may_wait=True) is True
    assert list(Event.objects.filter(generation=generation).values_list("seq", "type")) == [(1, "text")]


def test_an_event_whose_publish_failed_is_stored_at_once_with_those_waiting(generation, published):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("text", {"delta": "a"}, may_wait=True)
    published.failing = True  # Redis went away: publishing pauses, streams read the database

    assert run.append("text", {"delta": "b"}, may_wait=True) is True
    assert Event.objects.filter(generation=generation).count() == 2


def test_a_crashed_runs_terminal_event_follows_every_event_it_published(generation, published):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("text", {"delta": "a"}, may_wait=True)
    run.append("text", {"delta": "b"}, may_wait=True)
    # The worker dies here: what it published is not stored. The sweeper ends the run.

    terminal = event_append(generation_id=generation.id, type="failed", data={"status": "failed"})

    assert terminal.seq > 2
    assert [event["type"] for event in events_after(generation_id=generation.id, after=2)] == ["failed"]


def test_a_run_that_closes_leaves_no_gap_before_its_terminal_event(generation, published):
    run = RunEvents(generation.id, store_seconds=60)
    for letter in "abc":
        run.append("text", {"delta": letter}, may_wait=True)

    run.close()
    terminal = event_append(generation_id=generation.id, type="done", data={"status": "done"})

    assert terminal.seq == 4
    stored = Event.objects.filter(generation=generation).order_by("seq")
    assert list(stored.values_list("seq", flat=True)) == [1, 2, 3, 4]


def test_numbers_run_on_past_a_reserved_block(generation, published):
    run = RunEvents(generation.id, store_seconds=60)
    for index in range(events.RESERVED_SEQS + 5):
        run.append("text", {"delta": str(index)}, may_wait=True)
    run.close()

    assert [seq for seq, _ in published.messages] == list(range(1, events.RESERVED_SEQS + 6))
    assert Event.objects.filter(generation=generation).count() == events.RESERVED_SEQS + 5
    assert Generation.objects.get(pk=generation.pk).event_seq == events.RESERVED_SEQS + 5


def test_an_event_another_writes_while_a_run_holds_numbers_is_never_numbered_again(generation, published):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("text", {"delta": "a"}, may_wait=True)
    other = event_append(generation_id=generation.id, type="status", data={"status": "running"})
    run.append("text", {"delta": "b"}, may_wait=True)

    run.close()  # the numbers past "b" are not given back: someone numbered past them
    terminal = event_append(generation_id=generation.id, type="done", data={"status": "done"})

    seqs = list(Event.objects.filter(generation=generation).values_list("seq", flat=True))
    assert sorted(seqs) == sorted(set(seqs))
    assert 2 < other.seq < terminal.seq


def first_call_cut(real, calls: list, *, landed: bool, picks=lambda *args, **kwargs: True):
    """`real`, whose first call among those `picks` takes loses its connection: after its work
    landed, or before. Each call it takes is counted in `calls`."""

    def call(*args, **kwargs):
        if picks(*args, **kwargs):
            calls.append(kwargs)
            if len(calls) == 1:
                if landed:
                    real(*args, **kwargs)
                raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    return call


@pytest.mark.parametrize("landed", [False, True], ids=["cut before its commit", "landed, then cut"])
def test_a_batch_whose_connection_drops_is_stored_exactly_once(generation, published, monkeypatch, landed):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("text", {"delta": "a"}, may_wait=True)
    run.append("text", {"delta": "b"}, may_wait=True)
    calls = []
    monkeypatch.setattr(
        Event.objects, "bulk_create", first_call_cut(Event.objects.bulk_create, calls, landed=landed)
    )
    run.store()

    assert len(calls) == 2
    stored = Event.objects.filter(generation=generation).order_by("seq")
    assert [(event.seq, event.data["delta"]) for event in stored] == [(1, "a"), (2, "b")]
    assert run.waiting == []


@pytest.mark.parametrize("landed", [False, True], ids=["cut before its commit", "landed, then cut"])
def test_numbers_given_back_on_a_dropped_connection_leave_no_gap_before_the_terminal_event(
    generation, published, monkeypatch, landed
):
    run = RunEvents(generation.id, store_seconds=60)
    run.append("status", {"status": "running"})
    run.append("usage", {"cost": 1})
    calls = []

    def numbering(queryset, **fields) -> bool:
        return queryset.model is Generation and "event_seq" in fields

    monkeypatch.setattr(
        QuerySet, "update", first_call_cut(QuerySet.update, calls, landed=landed, picks=numbering)
    )
    run.close()
    assert len(calls) == 2
    terminal = event_append(generation_id=generation.id, type="done", data={"status": "done"})

    assert terminal.seq == 3
    stored = Event.objects.filter(generation=generation).order_by("seq")
    assert list(stored.values_list("seq", flat=True)) == [1, 2, 3]


@pytest.mark.parametrize("landed", [False, True], ids=["cut before its commit", "landed, then cut"])
def test_a_reservation_cut_by_a_dropped_connection_is_taken_again_and_the_run_goes_on(
    generation, published, monkeypatch, landed
):
    event_append(generation_id=generation.id, type="status", data={"status": "queued"})
    calls = []
    monkeypatch.setattr(
        RunEvents, "_reserved_top", first_call_cut(RunEvents._reserved_top, calls, landed=landed)
    )
    run = RunEvents(generation.id, store_seconds=60)
    run.append("status", {"status": "running"})
    run.append("text", {"delta": "a"}, may_wait=True)
    run.close()
    terminal = event_append(generation_id=generation.id, type="done", data={"status": "done"})

    assert len(calls) == 2
    # Numbered in order, each once; a reservation that landed unseen leaves its numbers unused.
    first = 2 + (events.RESERVED_SEQS if landed else 0)
    stored = Event.objects.filter(generation=generation).order_by("seq")
    assert [(event.seq, event.type) for event in stored] == [
        (1, "status"),
        (first, "status"),
        (first + 1, "text"),
        (first + 2, "done"),
    ]
    assert terminal.seq == first + 2


# ---- a worker's own threads: none keeps a connection while it waits ----


def test_the_claiming_loop_keeps_no_connection_while_it_waits(database_queue, transactional_db):
    worker = GenerationWorker()

    assert worker._claim(queue="generations", backend="default", worker_id="w") is None
    assert connection.connection is None


def test_the_heartbeat_thread_keeps_no_connection_between_beats(generation, monkeypatch):
    generation.status = Status.RUNNING
    generation.save(update_fields=["status"])
    after_beats = []

    def released():
        release_connection()
        after_beats.append(connection.connection)  # the heartbeat thread's own connection, if any

    monkeypatch.setattr(heartbeat, "release_connection", released)
    beating = heartbeat.Heartbeat(generation.id, interval=0.01)
    beating.start()
    try:
        deadline = time.monotonic() + 10
        while len(after_beats) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        beating.stop()

    assert len(after_beats) >= 3
    assert set(after_beats) == {None}
    generation.refresh_from_db()
    assert generation.heartbeat_at is not None
