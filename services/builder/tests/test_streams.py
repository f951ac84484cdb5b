"""The live events of a run as Server-Sent Events: replay, resume without loss or repeats, live delivery."""

import asyncio
import json
import threading
import time
import uuid

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient

from catalog.registry import catalog_sync
from generations.events import RunEvents, event_append
from generations.hub import hub_for_loop
from generations.models import Generation
from generations.streams import event_stream
from oasis_common.testing import user_token
from tests.test_hub import REDIS_URL, needs_redis, until


@pytest.fixture
def generation(transactional_db, user_id):
    model = catalog_sync()[0]
    return Generation.objects.create(
        user_id=user_id, project_id=uuid.uuid4(), model=model, prompt="a site", ceiling=10
    )


def append(generation, kind, **data):
    return event_append(generation_id=generation.id, type=kind, data=data)


def finished(generation) -> None:
    append(generation, "status", status="running")
    append(generation, "text", delta="Building ")
    append(generation, "tool_call", id="c1", name="write_file", arguments={"path": "index.html"})
    append(generation, "file_changed", path="index.html", action="created")
    append(generation, "done", status="done", cost=3, revision=1, summary="Built it.")


def parse(raw: str) -> list[dict]:
    events = []
    for block in raw.split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith((":", "retry:"))]
        if not lines:
            continue
        fields = dict(line.split(": ", 1) for line in lines)
        events.append({"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])})
    return events


async def _read(
    url: str, token: str, *, last_event_id=None, limit=None, timeout=10.0, arrivals=None, opened=None
) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    response = await AsyncClient().get(url, headers=headers)
    if not response.streaming:
        return response.status_code, response.content.decode()
    raw = ""
    iterator = response.streaming_content.__aiter__()
    try:
        while limit is None or len(parse(raw)) < limit:
            chunk = await asyncio.wait_for(iterator.__anext__(), timeout=timeout)
            raw += chunk.decode() if isinstance(chunk, bytes) else chunk
            if opened is not None:
                opened.set()
            if arrivals is not None:
                arrivals.extend([time.monotonic()] * (len(parse(raw)) - len(arrivals)))
    except StopAsyncIteration:
        pass
    finally:
        await iterator.aclose()
    return response.status_code, raw


def read(generation, user_id, **kwargs) -> tuple[int, str]:
    url = f"/api/v1/builder/generations/{generation.id}/events/"
    return async_to_sync(_read)(url, user_token(user_id), **kwargs)


def test_a_finished_run_replays_in_full_and_the_stream_ends(generation, user_id):
    finished(generation)

    status, raw = read(generation, user_id)

    events = parse(raw)
    assert status == 200
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5]
    assert [e["event"] for e in events] == ["status", "text", "tool_call", "file_changed", "done"]
    assert events[1]["data"] == {"type": "text", "delta": "Building "}
    assert events[-1]["data"]["summary"] == "Built it."


def test_last_event_id_resumes_after_it(generation, user_id):
    finished(generation)

    _, raw = read(generation, user_id, last_event_id=3)

    assert [e["id"] for e in parse(raw)] == [4, 5]


def test_an_interrupted_client_resumes_and_sees_every_event_exactly_once(generation, user_id):
    append(generation, "status", status="running")
    append(generation, "text", delta="a")
    append(generation, "text", delta="b")

    def later():
        time.sleep(0.3)
        append(generation, "text", delta="c")
        append(generation, "tool_call", id="c1", name="read_file", arguments={"path": "index.html"})
        append(generation, "done", status="done", cost=1, revision=None, summary="")

    threading.Thread(target=later).start()
    _, first = read(generation, user_id, limit=2)
    seen = parse(first)
    _, rest = read(generation, user_id, last_event_id=seen[-1]["id"])
    seen += parse(rest)

    assert [e["id"] for e in seen] == [1, 2, 3, 4, 5, 6]
    assert "".join(e["data"].get("delta", "") for e in seen) == "abc"


@pytest.mark.parametrize("last_event_id", [None, 1])
def test_a_stream_gets_events_still_waiting_to_be_stored_once_each_when_they_are(
    generation, user_id, last_event_id
):
    run = RunEvents(generation.id, store_seconds=60)  # published at once (with Redis), stored at close
    run.append("status", {"status": "running"})
    run.append("text", {"delta": "a"}, may_wait=True)

    def later():
        time.sleep(0.3)
        run.append("text", {"delta": "b"}, may_wait=True)
        time.sleep(0.3)
        run.close()
        append(generation, "done", status="done", cost=1, revision=None, summary="")

    threading.Thread(target=later).start()
    _, raw = read(generation, user_id, last_event_id=last_event_id)

    assert [e["id"] for e in parse(raw)] == [1, 2, 3, 4][(last_event_id or 0) :]
    assert [e["event"] for e in parse(raw)][-1] == "done"


async def live_stream(generation, *, after: int, then) -> list[tuple[int, float]]:
    """A stream's events (number, arrival) once the hub is live; `then` runs in a thread once it opens."""
    current = hub_for_loop(REDIS_URL)
    current.start()
    try:
        assert await until(lambda: current.live)
        received = []
        async for chunk in event_stream(generation_id=str(generation.id), after=after):
            if chunk.startswith("id:"):
                received.append((int(chunk.split()[1]), time.monotonic()))
            elif chunk.startswith("retry:"):
                threading.Thread(target=then).start()
        return received
    finally:
        await current.stop()


@needs_redis
def test_a_stream_resuming_past_events_still_waiting_delivers_each_soon_after_it_is_stored(
    generation, settings
):
    settings.OASIS = {**settings.OASIS, "SSE_HEARTBEAT_SECONDS": 30}  # no keep-alive wakes the stream
    run = RunEvents(generation.id, store_seconds=60)
    run.append("status", {"status": "running"})
    run.append("text", {"delta": "a"}, may_wait=True)  # 2: published before the stream opens
    ended = []  # when the terminal event was written

    def later():
        run.append("text", {"delta": "b"}, may_wait=True)  # 3: reaches the stream beyond a gap
        time.sleep(0.3)
        run.store()
        time.sleep(0.6)  # nothing is published meanwhile
        run.close()
        ended.append(time.monotonic())
        event_append(generation_id=generation.id, type="done", data={"status": "done"})

    received = asyncio.run(asyncio.wait_for(live_stream(generation, after=1, then=later), timeout=10))

    assert [seq for seq, _ in received] == [2, 3, 4]
    # 2 and 3 went out once stored, without waiting for a message after them.
    assert received[1][1] < ended[0]


@needs_redis
def test_a_stream_that_missed_an_event_still_waiting_reads_it_once_the_run_stores_it(generation, settings):
    settings.OASIS = {**settings.OASIS, "SSE_HEARTBEAT_SECONDS": 30}  # no keep-alive wakes the stream
    run = RunEvents(generation.id, store_seconds=60)
    run.append("status", {"status": "running"})
    run.append("tool_call", {"id": "c1", "name": "write_file"}, may_wait=True)  # before the stream opens
    ended = []

    def later():
        time.sleep(0.2)
        run.store()  # while the model still writes the file: nothing else is published
        time.sleep(0.6)
        run.close()
        ended.append(time.monotonic())
        event_append(generation_id=generation.id, type="done", data={"status": "done"})

    received = asyncio.run(asyncio.wait_for(live_stream(generation, after=1, then=later), timeout=10))

    assert [seq for seq, _ in received] == [2, 3]
    assert received[0][1] < ended[0]  # read when the run said it was stored


def test_events_arrive_live_while_the_run_goes(generation, user_id):
    appended = []  # when each event was committed
    arrivals = []  # when the client had it
    opened = threading.Event()

    def run():
        opened.wait(timeout=10)
        for n in range(3):
            time.sleep(0.3)
            appended.append(time.monotonic())
            append(generation, "text", delta=str(n))
        time.sleep(0.3)
        appended.append(time.monotonic())
        append(generation, "done", status="done", cost=1, revision=None, summary="")

    threading.Thread(target=run).start()
    _, raw = read(generation, user_id, arrivals=arrivals, opened=opened)

    assert [e["event"] for e in parse(raw)] == ["text", "text", "text", "done"]
    # Each event reached the client after it was stored and before the next one was.
    for n in range(3):
        assert appended[n] <= arrivals[n] < appended[n + 1]


def test_an_idle_stream_sends_heartbeats(generation, user_id):
    threading.Timer(
        0.7, lambda: append(generation, "done", status="done", cost=0, revision=None, summary="")
    ).start()

    _, raw = read(generation, user_id)

    assert ": keep-alive" in raw


def test_another_users_stream_is_404(generation, other_user_id):
    status, raw = read(generation, other_user_id)

    assert status == 404
    assert json.loads(raw)["error"]["code"] == "not_found"


@pytest.mark.parametrize("token", ["", "garbage", "Bearer-less"])
def test_no_valid_token_is_401(generation, token):
    async def go():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await AsyncClient().get(
            f"/api/v1/builder/generations/{generation.id}/events/", headers=headers
        )

    response = async_to_sync(go)()

    assert response.status_code == 401
    assert set(json.loads(response.content)["error"]) == {"code", "message", "details", "request_id"}


def test_a_malformed_last_event_id_starts_from_the_beginning(generation, user_id):
    finished(generation)

    _, raw = read(generation, user_id, last_event_id="yesterday")

    assert [e["id"] for e in parse(raw)] == [1, 2, 3, 4, 5]
