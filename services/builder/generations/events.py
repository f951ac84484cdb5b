"""A run's events: stored with a sequence number (the source of truth), published live via Redis.

Every event is a row; `Last-Event-ID` resumes from the rows, so nothing is lost or
repeated. When REDIS_URL is set each committed event is also published, so open
streams wake at once instead of polling. Publishing never holds up a run: a publish
waits at most PUBLISH_TIMEOUT_SECONDS, and after a failure publishing pauses for
PUBLISH_PAUSE_SECONDS (streams then find the events on their next database read).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from datetime import datetime

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from redis.backoff import NoBackoff
from redis.retry import Retry

from generations.connections import once_more_if_dropped
from generations.models import TERMINAL, Event, Generation

logger = logging.getLogger("oasis.events")

CHANNEL_PREFIX = "oasis:generation-events:"
# Where a run says up to which number its events are stored, after storing a batch of them.
STORED_CHANNEL_PREFIX = "oasis:generation-stored:"
# A run's last event is named after the status it ended with.
TERMINAL_TYPES = frozenset(status.value for status in TERMINAL)

PUBLISH_TIMEOUT_SECONDS = 0.25
PUBLISH_PAUSE_SECONDS = 5.0
# How many numbers a running run takes at once for its events (`RunEvents`).
RESERVED_SEQS = 100


class Publisher:
    """Publishes to Redis with short timeouts, and pauses after a failure instead of waiting on it again."""

    def __init__(
        self, url: str, *, timeout: float = PUBLISH_TIMEOUT_SECONDS, pause: float = PUBLISH_PAUSE_SECONDS
    ):
        self.url = url
        self.pause = pause
        # No retries: one bounded attempt, then the pause.
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self.paused_until = 0.0

    def publish(self, channel_name: str, message: str) -> bool:
        if time.monotonic() < self.paused_until:
            return False
        try:
            self.client.publish(channel_name, message)
        except redis.RedisError as exc:
            self.paused_until = time.monotonic() + self.pause
            # Streams also re-read the database, so a lost publish only delays delivery.
            logger.warning("Could not publish events (%s); pausing publishing for %.0f s", exc, self.pause)
            return False
        return True


_publisher: Publisher | None = None
_publisher_lock = threading.Lock()


def publisher() -> Publisher | None:
    global _publisher
    url = settings.OASIS.get("REDIS_URL")
    if not url:
        return None
    if _publisher is None or _publisher.url != url:
        with _publisher_lock:
            if _publisher is None or _publisher.url != url:
                _publisher = Publisher(url)
    return _publisher


def channel(generation_id) -> str:
    return f"{CHANNEL_PREFIX}{generation_id}"


def event_payload(event: Event) -> dict:
    return {"seq": event.seq, "type": event.type, "data": event.data}


def _publish(generation_id, payload: dict) -> bool:
    current = publisher()
    return current is not None and current.publish(channel(generation_id), json.dumps(payload))


def event_append(*, generation_id, type: str, data: dict | None = None) -> Event:
    """Store the next event of a run (numbered under a row lock) and publish it on commit.

    A connection dropped during the write costs one retry on a new connection, never a
    duplicate: when the first attempt's commit did land, the retry finds it (by the time the
    attempt stamped on it) and stops there.
    """
    data = data or {}
    # Each write stamps its row with its own time, which finds the row if the write landed.
    stamp = timezone.now()
    try:
        return _event_insert(generation_id=generation_id, type=type, data=data, created_at=stamp)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
    landed = Event.objects.filter(generation_id=generation_id, created_at=stamp).first()
    if landed is not None and (landed.type, landed.data) == (type, data):
        return landed
    logger.warning("Writing an event of %s failed on a dropped connection; writing it again", generation_id)
    return _event_insert(generation_id=generation_id, type=type, data=data, created_at=timezone.now())


def _event_insert(*, generation_id, type: str, data: dict, created_at: datetime) -> Event:
    if connection.vendor == "postgresql":
        event = _event_insert_at_once(
            generation_id=generation_id, type=type, data=data, created_at=created_at
        )
    else:
        with transaction.atomic():
            seq = (
                Generation.objects.select_for_update()
                .filter(pk=generation_id)
                .values_list("event_seq", flat=True)
                .get()
            ) + 1
            Generation.objects.filter(pk=generation_id).update(event_seq=seq)
            event = Event.objects.create(
                generation_id=generation_id, seq=seq, type=type, data=data, created_at=created_at
            )
    payload = event_payload(event)
    # Published once the event is committed: with the surrounding transaction if there is one.
    transaction.on_commit(lambda: _publish(generation_id, payload))
    return event


def _event_insert_at_once(*, generation_id, type: str, data: dict, created_at: datetime) -> Event:
    """One statement, one round trip: the UPDATE numbers the event under the run's row lock and the
    INSERT stores it with that number. Data-modifying CTEs are PostgreSQL's."""
    generations, stored = Generation._meta.db_table, Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            # The tables are the models' own names; every value is a parameter.
            f"WITH next AS (UPDATE {generations} SET event_seq = event_seq + 1 WHERE id = %s "  # noqa: S608
            "RETURNING id, event_seq) "
            f"INSERT INTO {stored} (generation_id, seq, type, data, created_at) "
            "SELECT id, event_seq, %s, %s, %s FROM next RETURNING id, seq",
            [
                uuid.UUID(str(generation_id)),
                type,
                Event._meta.get_field("data").get_db_prep_save(data, connection),
                created_at,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise Generation.DoesNotExist(f"No generation {generation_id}.")
    event_id, seq = row
    return Event(
        id=event_id, generation_id=generation_id, seq=seq, type=type, data=data, created_at=created_at
    )


class RunEvents:
    """A running run's events, numbered from a block it reserves. Those that may wait (the model's
    deltas while its answer streams) are published to live streams at once and stored a batch at a
    time; any other is stored first, with what waited, then published.

    Numbers come from the run's row, `RESERVED_SEQS` at a time, before the events they number,
    so an event written by anyone else (the sweeper's after a crash) is numbered after every event
    this run published. Waiting events are stored within `store_seconds`, all in one statement, and
    the run says so (`STORED_CHANNEL_PREFIX`): a stream that missed one of them reads it then. A
    crash loses from storage only those, which live streams had; the terminal event comes after
    them. `close` stores what waits and gives back the numbers not used, so a run that ends leaves
    no gap before its terminal event. Without Redis nothing is published, and each event is stored
    at once, as is one whose publish failed.
    """

    def __init__(self, generation_id, *, store_seconds: float) -> None:
        self.generation_id = generation_id
        self.store_seconds = store_seconds if publisher() is not None else 0.0
        self.next_seq = 1
        self.top = 0  # the last number reserved
        self.waiting: list[Event] = []
        self.waiting_since = 0.0

    def append(self, type: str, data: dict, *, may_wait: bool = False) -> bool:
        """Number the event, publish it and store it (a waiting one when due); whether anything was stored."""
        if self.next_seq > self.top:
            self._reserve()
        event = Event(
            generation_id=self.generation_id,
            seq=self.next_seq,
            type=type,
            data=data,
            created_at=timezone.now(),
        )
        self.next_seq += 1
        if not self.waiting:
            self.waiting_since = time.monotonic()
        self.waiting.append(event)
        if may_wait and self.store_seconds:
            if _publish(self.generation_id, event_payload(event)):
                return self.store_if_due()
            self.store()  # not published (Redis failed, publishing paused): stored at once, as without it
            return True
        self.store(announce=False)  # the event published next tells a stream what it has not sent
        _publish(self.generation_id, event_payload(event))
        return True

    def store_if_due(self) -> bool:
        if self.waiting and time.monotonic() - self.waiting_since >= self.store_seconds:
            self.store()
            return True
        return False

    def store(self, *, announce: bool = True) -> None:
        """Store every waiting event in one statement (after a dropped connection, once more on a
        new one), and announce it: a stream that missed one of them hears it is stored."""
        if not self.waiting:
            return
        batch = self.waiting
        try:
            Event.objects.bulk_create(batch)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise
            connection.close()
            logger.warning(
                "Storing events of %s failed on a dropped connection; storing them again", self.generation_id
            )
            # The numbers are the events' own: a batch whose commit did land is not stored twice.
            Event.objects.bulk_create(
                [Event(**{field: getattr(event, field) for field in STORED_FIELDS}) for event in batch],
                ignore_conflicts=True,
            )
        last, self.waiting = batch[-1].seq, []
        current = publisher()
        if announce and current is not None:
            current.publish(f"{STORED_CHANNEL_PREFIX}{self.generation_id}", str(last))

    def close(self) -> None:
        """Store what waits and give back the numbers not used, unless someone numbered past them.

        A give-back cut by a dropped connection is made once more on a new one (a second try
        after a first that landed matches nothing): the terminal event that follows is numbered
        right after this run's last one.
        """
        self.store()
        if self.top:
            once_more_if_dropped(
                Generation.objects.filter(pk=self.generation_id, event_seq=self.top).update,
                event_seq=self.next_seq - 1,
            )
            self.top = self.next_seq - 1

    def _reserve(self) -> None:
        """Take the next `RESERVED_SEQS` numbers. One cut by a dropped connection is taken once more
        on a new one: if the first had landed, its numbers go unused (a gap, which a stream crosses
        at its next read) rather than the run failing."""
        self.top = once_more_if_dropped(self._reserved_top)
        self.next_seq = self.top - RESERVED_SEQS + 1

    def _reserved_top(self) -> int:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Generation._meta.db_table} SET event_seq = event_seq + %s "  # noqa: S608
                    "WHERE id = %s RETURNING event_seq",
                    [RESERVED_SEQS, uuid.UUID(str(self.generation_id))],
                )
                row = cursor.fetchone()
        else:
            with transaction.atomic():
                Generation.objects.filter(pk=self.generation_id).update(
                    event_seq=F("event_seq") + RESERVED_SEQS
                )
                row = Generation.objects.filter(pk=self.generation_id).values_list("event_seq").first()
        if row is None:
            raise Generation.DoesNotExist(f"No generation {self.generation_id}.")
        return row[0]


STORED_FIELDS = ("generation_id", "seq", "type", "data", "created_at")


def events_after(*, generation_id, after: int, limit: int = 500) -> list[dict]:
    rows = Event.objects.filter(generation_id=generation_id, seq__gt=after).order_by("seq")[:limit]
    return [event_payload(event) for event in rows]
