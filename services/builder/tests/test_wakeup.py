"""Waking workers when a run is queued: on commit, never before, and never the only way to a run."""

import threading
import time

import pytest
from django.db import connection, transaction

from generations import wakeup
from generations.tasks import run_generation
from generations.wakeup import Alarm

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="notifications are PostgreSQL's (SQLite workers look at 0.1 s)"
)


@pytest.fixture
def alarm():
    alarm = Alarm()
    yield alarm
    alarm.close()


def woken_within(alarm: Alarm, seconds: float) -> bool:
    """Whether a notification comes within `seconds`, as a worker waiting on an empty queue sees it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if alarm.wait(0, threading.Event()):
            return True
        time.sleep(0.01)
    return False


def queue_a_run() -> None:
    run_generation.enqueue("00000000-0000-0000-0000-000000000000")


@on_postgresql
def test_queuing_a_run_wakes_a_listening_worker_once_its_transaction_commits(
    alarm, database_queue, transactional_db, monkeypatch
):
    monkeypatch.setattr(wakeup, "LISTENING_LOOK_SECONDS", 0.05)
    assert not alarm.wait(0, threading.Event())  # listening from here on
    assert alarm.listening

    with transaction.atomic():
        queue_a_run()
        # Not before the task row is there for the worker to claim.
        assert not woken_within(alarm, 0.3)
    assert woken_within(alarm, 5)
    # One wake-up per notification: nothing more is pending.
    assert not alarm.wait(0, threading.Event())


@on_postgresql
def test_a_queuing_that_rolls_back_wakes_no_one(alarm, database_queue, transactional_db, monkeypatch):
    monkeypatch.setattr(wakeup, "LISTENING_LOOK_SECONDS", 0.05)
    alarm.wait(0, threading.Event())

    def queue_then_fail() -> None:
        with transaction.atomic():
            queue_a_run()
            raise RuntimeError("the request failed after queuing")

    with pytest.raises(RuntimeError):
        queue_then_fail()

    assert not woken_within(alarm, 0.5)


@on_postgresql
def test_after_its_connection_is_dropped_the_alarm_listens_again_on_a_new_one(
    alarm, database_queue, transactional_db, monkeypatch, caplog
):
    monkeypatch.setattr(wakeup, "LISTENING_LOOK_SECONDS", 0.05)
    alarm.wait(0, threading.Event())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [alarm.raw.info.backend_pid])

    # The drop is noticed (as a wake-up that is not one, or a failure) and logged; nothing is raised.
    deadline = time.monotonic() + 5
    while alarm.listening and time.monotonic() < deadline:
        alarm.wait(0.05, threading.Event())
    assert not alarm.listening
    assert "Listening for queued runs failed" in caplog.text

    alarm.wait(0, threading.Event())
    assert alarm.listening
    with transaction.atomic():
        queue_a_run()
    assert woken_within(alarm, 5)


def test_where_it_cannot_listen_the_alarm_sleeps_until_the_next_look_or_a_stop(alarm, db, monkeypatch):
    monkeypatch.setattr(alarm, "listens", False)
    started = time.monotonic()
    assert not alarm.wait(0.1, threading.Event())
    assert time.monotonic() - started >= 0.1

    stopped = threading.Event()
    stopped.set()
    started = time.monotonic()
    assert not alarm.wait(30, stopped)
    assert time.monotonic() - started < 5
    assert not alarm.listening
