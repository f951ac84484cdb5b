"""A run's events: stored with a sequence number (the source of truth), published live via Redis.

Every event is a row; `Last-Event-ID` resumes from the rows, so nothing is lost or
repeated. When REDIS_URL is set each committed event is also published, so open
streams wake at once instead of polling.
"""

from __future__ import annotations

import json
import logging
import threading

import redis
from django.conf import settings
from django.db import transaction

from generations.models import Event, Generation

logger = logging.getLogger("oasis.events")

CHANNEL_PREFIX = "oasis:generation-events:"
TERMINAL_TYPES = frozenset({"done", "failed", "cancelled", "conflict", "budget_exhausted"})

_client: redis.Redis | None = None
_client_lock = threading.Lock()


def redis_client() -> redis.Redis | None:
    global _client
    url = settings.OASIS.get("REDIS_URL")
    if not url:
        return None
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    return _client


def channel(generation_id) -> str:
    return f"{CHANNEL_PREFIX}{generation_id}"


def event_payload(event: Event) -> dict:
    return {"seq": event.seq, "type": event.type, "data": event.data}


def _publish(generation_id, payload: dict) -> None:
    client = redis_client()
    if client is None:
        return
    try:
        client.publish(channel(generation_id), json.dumps(payload))
    except redis.RedisError as exc:
        # Streams also re-read the database now and then, so a lost publish only delays.
        logger.warning("Could not publish an event of %s: %s", generation_id, exc)


def event_append(*, generation_id, type: str, data: dict | None = None) -> Event:
    """Store the next event of a run (numbered under a row lock) and publish it on commit."""
    with transaction.atomic():
        seq = (
            Generation.objects.select_for_update()
            .filter(pk=generation_id)
            .values_list("event_seq", flat=True)
            .get()
        ) + 1
        Generation.objects.filter(pk=generation_id).update(event_seq=seq)
        event = Event.objects.create(generation_id=generation_id, seq=seq, type=type, data=data or {})
        payload = event_payload(event)
        transaction.on_commit(lambda: _publish(generation_id, payload))
    return event


def events_after(*, generation_id, after: int, limit: int = 500) -> list[dict]:
    rows = Event.objects.filter(generation_id=generation_id, seq__gt=after).order_by("seq")[:limit]
    return [event_payload(event) for event in rows]
