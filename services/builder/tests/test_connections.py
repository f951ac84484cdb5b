"""Connections off the request path: a dropped one costs one retried query, never errors until a restart."""

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import OperationalError, connection

from catalog.registry import catalog_sync
from generations import events, heartbeat
from generations.connections import off_request_thread, release_connection
from generations.events import event_append, events_after
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
