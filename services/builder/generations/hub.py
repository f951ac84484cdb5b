"""The live-event hub: one Redis subscription per event loop, fanned out to the streams open on it.

Its life cycle is explicit: `start()` (at ASGI startup, or by the first stream), a listener
that pings Redis every `HEALTH_SECONDS` and reconnects with capped exponential backoff when a
ping goes unanswered or the connection fails, and `stop()`, at once and bounded by `CLOSE_SECONDS`.

Every wait inside is bounded. Reads use a short timeout, so the listener notices a stop or a
cancellation within a second even when a cancellation was swallowed: Python 3.11's
`asyncio.wait_for` drops a cancellation that races with its inner future finishing (CPython
gh-86296), and redis-py sends commands through it. A task whose cancellation was swallowed
still counts it in `Task.cancelling()`, which the listener checks on every round.

While the hub is not connected (`live` is false) streams poll the database at their own
pace; the database stays the source of truth either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import weakref
from collections import defaultdict

import redis.asyncio as aioredis

from generations.events import CHANNEL_PREFIX, STORED_CHANNEL_PREFIX

logger = logging.getLogger("oasis.streams")

READ_SECONDS = 1.0
HEALTH_SECONDS = 5.0
CONNECT_SECONDS = 3.0
CLOSE_SECONDS = 2.0
BACKOFF_FIRST_SECONDS = 0.2
BACKOFF_MAX_SECONDS = 10.0
QUEUE_SIZE = 1000


class Hub:
    """Fans each event published for a generation out to the queues of the streams watching it."""

    def __init__(
        self,
        url: str,
        *,
        health_seconds: float = HEALTH_SECONDS,
        read_seconds: float = READ_SECONDS,
        backoff_first_seconds: float = BACKOFF_FIRST_SECONDS,
        backoff_max_seconds: float = BACKOFF_MAX_SECONDS,
    ) -> None:
        self.url = url
        self.health_seconds = health_seconds
        self.read_seconds = read_seconds
        self.backoff_first_seconds = backoff_first_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.queues: dict[str, set[asyncio.Queue]] = defaultdict(set)
        self.live = False
        self.connections = 0  # how many times the listener has connected, for tests and logs
        self._task: asyncio.Task | None = None
        self._stopping = False

    # ---- life cycle ----

    def start(self) -> None:
        """Start listening on the running loop, unless a listener already runs."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="event-hub")

    async def stop(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop the listener now, waiting at most `timeout` for it.

        It is cancelled wherever it waits (a read, a backoff's sleep), and its `finally` closes the
        connection within CLOSE_SECONDS; should something below swallow the cancellation, its next
        round sees `_stopping` and ends. Not a round's grace: at shutdown the server has already
        stopped accepting, and a replacement process waits for this one to exit.
        """
        self._stopping = True
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            logger.error("The event hub did not stop within %.1f s; leaving it behind", timeout)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # ---- streams ----

    def subscribe(self, generation_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        self.queues[generation_id].add(queue)
        self.start()
        return queue

    def unsubscribe(self, generation_id: str, queue: asyncio.Queue) -> None:
        listeners = self.queues.get(generation_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                self.queues.pop(generation_id, None)

    def _deliver(self, message: dict) -> None:
        if message.get("type") != "pmessage":
            return
        channel = _text(message["channel"])
        generation_id = channel.removeprefix(CHANNEL_PREFIX).removeprefix(STORED_CHANNEL_PREFIX)
        listeners = self.queues.get(generation_id)
        if not listeners:
            return
        if channel.startswith(STORED_CHANNEL_PREFIX):
            event = {"stored": int(message["data"])}  # events up to this number are stored
        else:
            event = json.loads(message["data"])
        for queue in list(listeners):
            with contextlib.suppress(asyncio.QueueFull):  # a stalled stream re-reads the database
                queue.put_nowait(event)

    # ---- the listener ----

    def _should_stop(self) -> bool:
        if self._stopping:
            return True
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError  # a cancellation something below swallowed
        return False

    async def _run(self) -> None:
        delay = self.backoff_first_seconds
        while not self._should_stop():
            try:
                await self._session()
                delay = self.backoff_first_seconds
            except Exception as exc:
                logger.warning(
                    "Event hub lost Redis (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay
                )
            if self._should_stop():
                return
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))  # noqa: S311 - jitter, not a secret
            delay = min(delay * 2, self.backoff_max_seconds)

    async def _session(self) -> None:
        """One connection: subscribe, relay messages and pings until it fails, goes silent, or we stop."""
        # No socket timeout: redis-py then writes without asyncio.wait_for, and every wait
        # here has its own bound.
        client = aioredis.Redis.from_url(
            self.url, socket_timeout=None, socket_connect_timeout=CONNECT_SECONDS
        )
        pubsub = client.pubsub()
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                await pubsub.psubscribe(f"{CHANNEL_PREFIX}*", f"{STORED_CHANNEL_PREFIX}*")
            self.connections += 1
            heard = loop.time()
            next_ping = heard + self.health_seconds
            while not self._should_stop():
                message = await pubsub.get_message(timeout=self.read_seconds)
                now = loop.time()
                if message is not None:
                    heard = now
                    if message.get("type") == "psubscribe":
                        self.live = True
                    self._deliver(message)
                if now - heard > 2 * self.health_seconds:
                    raise ConnectionError(f"no answer from Redis for {now - heard:.1f} s")
                if now >= next_ping:
                    async with asyncio.timeout(CONNECT_SECONDS):
                        await pubsub.ping()
                    next_ping = now + self.health_seconds
        finally:
            self.live = False
            await _close(pubsub, client)


async def _close(pubsub, client) -> None:
    try:
        async with asyncio.timeout(CLOSE_SECONDS):
            await pubsub.aclose()
            await client.aclose()
    except Exception as exc:
        logger.warning("Closing the event hub's Redis connection failed: %s", exc)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub_for_loop(url: str) -> Hub:
    """The hub of the running loop (keyed by the loop itself: an id() is reused once a loop is gone)."""
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None or current.url != url:
        current = _hubs[loop] = Hub(url)
    return current


async def hubs_stop() -> None:
    """Stop every hub this process started (ASGI shutdown)."""
    await asyncio.gather(*(current.stop() for current in list(_hubs.values())))


async def lifespan(receive, send, *, url: str) -> None:
    """ASGI lifespan: the hub starts with the server process, so the first stream finds it live."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if url:
                hub_for_loop(url).start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await hubs_stop()
            await send({"type": "lifespan.shutdown.complete"})
            return
