"""Server-Sent Events for a run, served by async views so an open stream holds no thread.

The database is the source of truth: a stream replays what it has not sent, then
waits — woken by Redis pub/sub when REDIS_URL is set, by polling otherwise — and
ends after the terminal event. Comments keep proxies from closing idle streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings

from generations.events import CHANNEL_PREFIX, TERMINAL_TYPES, events_after

logger = logging.getLogger("oasis.streams")

# With Redis, a stream still re-reads the database this often in case a publish was lost.
REDIS_SAFETY_POLL_SECONDS = 2.0


class Hub:
    """One Redis subscription per process, fanned out to the streams open in it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queues: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.task: asyncio.Task | None = None

    def subscribe(self, generation_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        self.queues[generation_id].add(queue)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._listen())
        return queue

    def unsubscribe(self, generation_id: str, queue: asyncio.Queue) -> None:
        listeners = self.queues.get(generation_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                self.queues.pop(generation_id, None)

    async def _listen(self) -> None:
        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
            async for message in pubsub.listen():
                if message.get("type") != "pmessage":
                    continue
                generation_id = message["channel"].decode().removeprefix(CHANNEL_PREFIX)
                for queue in list(self.queues.get(generation_id, ())):
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.put_nowait(json.loads(message["data"]))
        except Exception as exc:  # streams fall back to polling until the next subscribe restarts us
            logger.warning("Event hub lost Redis: %s", exc)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
                await client.aclose()


_hubs: dict[int, Hub] = {}


def hub() -> Hub | None:
    url = settings.OASIS.get("REDIS_URL")
    if not url:
        return None
    loop_id = id(asyncio.get_running_loop())
    if loop_id not in _hubs:
        _hubs[loop_id] = Hub(url)
    return _hubs[loop_id]


def format_event(event: dict) -> str:
    data = json.dumps({"type": event["type"], **event["data"]}, separators=(",", ":"))
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"


async def event_stream(*, generation_id: str, after: int) -> AsyncIterator[str]:
    oasis = settings.OASIS
    heartbeat = oasis["SSE_HEARTBEAT_SECONDS"]
    current_hub = hub()
    queue = current_hub.subscribe(generation_id) if current_hub else None
    wait = REDIS_SAFETY_POLL_SECONDS if queue else oasis["SSE_POLL_SECONDS"]
    read = sync_to_async(events_after, thread_sensitive=False)
    sent = after
    loop = asyncio.get_running_loop()
    last_write = loop.time()
    try:
        yield "retry: 2000\n\n"
        while True:
            for event in await read(generation_id=generation_id, after=sent):
                yield format_event(event)
                sent = event["seq"]
                last_write = loop.time()
                if event["type"] in TERMINAL_TYPES:
                    return
            woke = await _wait(queue, min(wait, heartbeat))
            # Deliver straight from the message when it is the next one; re-read on any gap.
            while woke is not None and woke["seq"] == sent + 1:
                yield format_event(woke)
                sent = woke["seq"]
                last_write = loop.time()
                if woke["type"] in TERMINAL_TYPES:
                    return
                woke = queue.get_nowait() if queue and not queue.empty() else None
            if loop.time() - last_write >= heartbeat:
                yield ": keep-alive\n\n"
                last_write = loop.time()
    finally:
        if current_hub and queue:
            current_hub.unsubscribe(generation_id, queue)


async def _wait(queue: asyncio.Queue | None, seconds: float) -> dict | None:
    if queue is None:
        await asyncio.sleep(seconds)
        return None
    try:
        return await asyncio.wait_for(queue.get(), timeout=seconds)
    except TimeoutError:
        return None
