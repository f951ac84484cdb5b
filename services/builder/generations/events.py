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

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from generations.models import TERMINAL, Event, Generation

logger = logging.getLogger("oasis.events")

CHANNEL_PREFIX = "oasis:generation-events:"
# A run's last event is named after the status it ended with.
TERMINAL_TYPES = frozenset(status.value for status in TERMINAL)

PUBLISH_TIMEOUT_SECONDS = 0.25
PUBLISH_PAUSE_SECONDS = 5.0


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


def _publish(generation_id, payload: dict) -> None:
    current = publisher()
    if current is not None:
        current.publish(channel(generation_id), json.dumps(payload))


def event_append(*, generation_id, type: str, data: dict | None = None) -> Event:
    """Store the next event of a run (numbered under a row lock) and publish it on commit.

    A connection dropped during the write costs one retry on a new connection, never a
    duplicate: when the first attempt's commit did land, the retry finds it and stops there.
    """
    data = data or {}
    attempt = _Attempt()
    try:
        return _event_insert(generation_id=generation_id, type=type, data=data, attempt=attempt)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
    if attempt.seq is not None:
        landed = Event.objects.filter(generation_id=generation_id, seq=attempt.seq).first()
        if landed is not None and (landed.type, landed.data) == (type, data):
            return landed
    logger.warning("Writing an event of %s failed on a dropped connection; writing it again", generation_id)
    return _event_insert(generation_id=generation_id, type=type, data=data, attempt=_Attempt())


class _Attempt:
    """The sequence number one write took, once it has one."""

    seq: int | None = None


def _event_insert(*, generation_id, type: str, data: dict, attempt: _Attempt) -> Event:
    with transaction.atomic():
        attempt.seq = (
            Generation.objects.select_for_update()
            .filter(pk=generation_id)
            .values_list("event_seq", flat=True)
            .get()
        ) + 1
        Generation.objects.filter(pk=generation_id).update(event_seq=attempt.seq)
        event = Event.objects.create(generation_id=generation_id, seq=attempt.seq, type=type, data=data)
        payload = event_payload(event)
        transaction.on_commit(lambda: _publish(generation_id, payload))
    return event


def events_after(*, generation_id, after: int, limit: int = 500) -> list[dict]:
    rows = Event.objects.filter(generation_id=generation_id, seq__gt=after).order_by("seq")[:limit]
    return [event_payload(event) for event in rows]
