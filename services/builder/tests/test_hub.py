"""The live-event hub's life cycle: deliver, notice a dead or silent Redis, reconnect, stop — bounded."""

import asyncio
import contextlib
import gc
import json
import os
import time

import pytest
import redis

from generations.events import CHANNEL_PREFIX, STORED_CHANNEL_PREFIX
from generations.hub import Hub, _hubs, hub_for_loop, lifespan

REDIS_URL = os.environ.get("OASIS_TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs OASIS_TEST_REDIS_URL (a Redis server)")


async def until(condition, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.02)
    return condition()


def publish(generation_id: str, seq: int) -> None:
    payload = {"seq": seq, "type": "text", "data": {"delta": str(seq)}}
    redis.Redis.from_url(REDIS_URL).publish(f"{CHANNEL_PREFIX}{generation_id}", json.dumps(payload))


async def delivered(current: Hub, generation_id: str, seq: int) -> dict:
    queue = current.subscribe(generation_id)
    try:
        assert await until(lambda: current.live)
        publish(generation_id, seq)
        return await asyncio.wait_for(queue.get(), timeout=3)
    finally:
        current.unsubscribe(generation_id, queue)


class Proxy:
    """A TCP proxy to Redis that can go silent: it keeps the connections open and forwards nothing."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.silent = False
        self.accepted = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> "Proxy":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def _serve(self, reader, writer) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(source, sink):
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    if not self.silent:
                        sink.write(data)
                        await sink.drain()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        writer.close()
        up_writer.close()


@needs_redis
@pytest.mark.parametrize("steps", range(0, 40, 2))
def test_a_listener_cancelled_at_any_step_of_connecting_ends(steps):
    # Runner.close() cancels every task and waits for them: a listener that swallows its
    # cancellation while connecting (Python 3.11's wait_for inside redis-py) hung the suite.
    async def go():
        current = Hub(REDIS_URL)
        current.start()
        for _ in range(steps):
            await asyncio.sleep(0)
        task = current._task
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=3)
        return done

    assert asyncio.run(go())


@needs_redis
def test_an_event_published_for_a_generation_reaches_its_stream():
    async def go():
        current = Hub(REDIS_URL)
        try:
            return await delivered(current, "g-1", 7)
        finally:
            await current.stop()

    assert asyncio.run(go()) == {"seq": 7, "type": "text", "data": {"delta": "7"}}


@needs_redis
def test_a_runs_word_that_its_events_are_stored_reaches_its_stream():
    async def go():
        current = Hub(REDIS_URL)
        queue = current.subscribe("g-2")
        try:
            assert await until(lambda: current.live)
            redis.Redis.from_url(REDIS_URL).publish(f"{STORED_CHANNEL_PREFIX}g-2", "12")
            return await asyncio.wait_for(queue.get(), timeout=3)
        finally:
            current.unsubscribe("g-2", queue)
            await current.stop()

    assert asyncio.run(go()) == {"stored": 12}


@needs_redis
def test_the_hub_reconnects_after_redis_drops_its_connection():
    async def go():
        current = Hub(REDIS_URL, backoff_first_seconds=0.05)
        try:
            await delivered(current, "g-2", 1)
            redis.Redis.from_url(REDIS_URL).client_kill_filter(_type="pubsub")
            assert await until(lambda: current.connections >= 2 and current.live, seconds=5)
            return await delivered(current, "g-2", 2)
        finally:
            await current.stop()

    assert asyncio.run(go())["seq"] == 2


@needs_redis
def test_a_silent_connection_is_noticed_by_the_health_check_and_replaced():
    port = redis.connection.parse_url(REDIS_URL).get("port", 6379)

    async def go():
        async with Proxy(port) as proxy:
            current = Hub(proxy.url, health_seconds=0.2, read_seconds=0.05, backoff_first_seconds=0.05)
            try:
                await delivered(current, "g-3", 1)
                proxy.silent = True  # nothing arrives, nothing closes: a dead network path
                assert await until(lambda: not current.live, seconds=3)
                proxy.silent = False
                assert await until(lambda: current.live, seconds=5)
                event = await delivered(current, "g-3", 2)
                return event, proxy.accepted, current.connections
            finally:
                await current.stop()

    event, accepted, connections = asyncio.run(go())
    assert event["seq"] == 2
    assert accepted >= 2
    assert connections >= 2


def test_stop_is_bounded_when_redis_never_answers():
    async def black_hole(reader, writer):
        await asyncio.sleep(3600)

    async def go():
        server = await asyncio.start_server(black_hole, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        current = Hub(f"redis://127.0.0.1:{port}/0")
        current.start()
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await current.stop(timeout=0.5)
        server.close()
        return time.monotonic() - started, current.running

    took, running = asyncio.run(go())
    assert not running
    assert took < 1.5


@pytest.mark.parametrize(
    ("url", "settings"),
    [
        # Redis down: the listener sleeps out a 30 s backoff.
        pytest.param("redis://127.0.0.1:1/0", {"backoff_first_seconds": 30}, id="backoff"),
        # Redis up: the listener waits 30 s for a message.
        pytest.param(REDIS_URL, {"read_seconds": 30, "health_seconds": 60}, id="read", marks=needs_redis),
    ],
)
def test_stop_does_not_wait_out_the_listeners_round(url, settings):
    # At shutdown the server has stopped accepting: every second the hub takes is a second with
    # nothing listening (a one-replica restart's outage).
    async def go():
        current = Hub(url, **settings)
        current.start()
        await asyncio.sleep(0.3)
        if "read_seconds" in settings:
            assert await until(lambda: current.live)
        started = time.monotonic()
        await current.stop(timeout=10)
        return time.monotonic() - started, current.running

    took, running = asyncio.run(go())
    assert not running
    assert took < 5  # not the listener's 30 s, nor stop's 10 s


def test_an_unreachable_redis_leaves_the_hub_not_live_and_retrying():
    async def go():
        current = Hub("redis://127.0.0.1:1/0", backoff_first_seconds=0.01, backoff_max_seconds=0.05)
        current.start()
        await asyncio.sleep(0.3)
        state = (current.live, current.running)
        await current.stop()
        return state

    assert asyncio.run(go()) == (False, True)


def test_each_event_loop_has_its_own_hub_and_a_closed_loops_hub_goes_with_it():
    async def get():
        return hub_for_loop("redis://127.0.0.1:1/0")

    loop = asyncio.new_event_loop()
    first = loop.run_until_complete(get())
    loop.close()
    del loop
    gc.collect()
    assert first not in list(_hubs.values())

    second = asyncio.run(get())
    assert second is not first


def test_the_asgi_lifespan_starts_the_hub_and_stops_it():
    async def go():
        messages = asyncio.Queue()
        sent = []

        async def send(message):
            sent.append(message["type"])

        await messages.put({"type": "lifespan.startup"})
        serving = asyncio.create_task(lifespan(messages.get, send, url="redis://127.0.0.1:1/0"))
        assert await until(lambda: sent == ["lifespan.startup.complete"])
        running = hub_for_loop("redis://127.0.0.1:1/0").running
        await messages.put({"type": "lifespan.shutdown"})
        await asyncio.wait_for(serving, timeout=5)
        return running, hub_for_loop("redis://127.0.0.1:1/0").running, sent

    assert asyncio.run(go()) == (True, False, ["lifespan.startup.complete", "lifespan.shutdown.complete"])


def test_publishing_to_a_hung_redis_holds_up_a_run_once_and_then_not_at_all():
    import socket
    import threading

    from generations.events import Publisher

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)  # accepts connections, never answers: a hung Redis
    port = listener.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    current = Publisher(f"redis://127.0.0.1:{port}/0", timeout=0.2, pause=30)

    started = time.monotonic()
    first = current.publish("c", "1")
    first_took = time.monotonic() - started
    started = time.monotonic()
    rest = [current.publish("c", str(n)) for n in range(50)]
    rest_took = time.monotonic() - started
    listener.close()

    assert first is False
    assert first_took < 1.0
    assert rest == [False] * 50
    assert rest_took < 0.05


@needs_redis
def test_publishing_resumes_after_the_pause():
    from generations.events import Publisher

    current = Publisher(REDIS_URL, pause=0.1)
    current.paused_until = time.monotonic() + 0.1
    assert current.publish("c", "1") is False
    time.sleep(0.15)
    assert current.publish("c", "2") is True
