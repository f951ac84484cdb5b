"""tokens/shared_cache.py: a failing cache costs a log line and a few seconds of database, never an error."""

import logging

import pytest
from django.core.cache import cache, caches
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from tokens import shared_cache


def time_out(*args, **kwargs):
    raise RedisTimeoutError("Timeout reading from socket")


@pytest.fixture
def clock(monkeypatch):
    """The breaker's clock, moved on by hand."""
    now = [1000.0]
    monkeypatch.setattr(shared_cache.time, "monotonic", lambda: now[0])
    return now


def test_a_read_from_a_failing_cache_is_a_miss(cache_fails):
    assert shared_cache.get_many(["a", "b"]) == {}
    assert shared_cache.get("a") is None


@pytest.mark.parametrize(
    "write",
    [
        lambda: shared_cache.add("a", 1, timeout=10),
        lambda: shared_cache.set("a", 1, timeout=10),
        lambda: shared_cache.delete("a"),
    ],
    ids=["add", "set", "delete"],
)
def test_a_write_to_a_failing_cache_is_logged_not_raised(cache_fails, caplog, write):
    with caplog.at_level(logging.WARNING, logger="oasis.auth.cache"):
        write()

    assert "ConnectionError" in caplog.text
    assert not shared_cache.available()


def test_after_a_failure_the_cache_is_skipped_for_a_few_seconds(cache_fails, clock):
    shared_cache.get("a")
    assert cache_fails == ["get_many"]

    shared_cache.get("a")
    shared_cache.add("a", 1, timeout=10)
    shared_cache.set("a", 1, timeout=10)
    assert cache_fails == ["get_many"]

    clock[0] += shared_cache.SKIP_SECONDS
    shared_cache.get("a")
    assert cache_fails == ["get_many", "delete_many"]  # first the entry the failed set() left behind


def test_the_cache_is_used_again_once_it_answers(db, clock):
    shared_cache.failed("read", RedisConnectionError())
    cache.set("a", 1)
    assert shared_cache.get("a") is None

    clock[0] += shared_cache.SKIP_SECONDS

    assert shared_cache.get("a") == 1


def test_an_entry_a_failed_write_should_have_replaced_is_deleted_before_the_next_read(db, monkeypatch, clock):
    cache.set("token-cutoff:ada", 0.0)  # what every process reads, Redis being up for them
    with monkeypatch.context() as patch:
        patch.setattr(caches["default"], "set", time_out)
        shared_cache.set("token-cutoff:ada", 123.0, timeout=10)  # this process could not reach it
    clock[0] += shared_cache.SKIP_SECONDS

    assert shared_cache.get("token-cutoff:ada") is None  # reloaded from the database, not trusted
    assert cache.get("token-cutoff:ada") is None


def test_a_healthy_cache_is_used_as_is(db):
    shared_cache.set("a", 1, timeout=10)
    shared_cache.add("a", 2, timeout=10)
    shared_cache.add("b", 3, timeout=10)

    assert shared_cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 3}
    shared_cache.delete("a")
    assert shared_cache.get("a") is None
    assert shared_cache.available()


def test_while_the_cache_keeps_failing_it_is_asked_less_often_up_to_once_a_minute(cache_fails, clock):
    pauses = []
    for _ in range(6):
        shared_cache.get("a")
        skipped_from = clock[0]
        while not shared_cache.available():
            clock[0] += 1
        pauses.append(clock[0] - skipped_from)

    assert pauses == [5, 10, 20, 40, 60, 60]
    assert len(cache_fails) == 6


def test_once_the_cache_answers_a_failure_pauses_it_briefly_again(db, clock):
    for _ in range(3):
        shared_cache.failed("read", RedisConnectionError())
    clock[0] += shared_cache.MAX_SKIP_SECONDS
    assert shared_cache.get("a") is None  # answered

    shared_cache.failed("read", RedisConnectionError())
    clock[0] += shared_cache.SKIP_SECONDS

    assert shared_cache.available()
