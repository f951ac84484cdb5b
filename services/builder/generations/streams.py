"""Server-Sent Events for a run, served by async views so an open stream holds no thread.

The database is the source of truth: a stream replays what it has not sent, then
waits — woken by the Redis hub (generations/hub.py) while it is live, by polling otherwise — and
ends after the terminal event. Comments keep proxies from closing idle streams.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from django.conf import settings

from generations.connections import off_request_thread
from generations.events import TERMINAL_TYPES, events_after
from generations.hub import Hub, hub_for_loop

# With Redis, a stream still re-reads the database this often in case a publish was lost.
REDIS_SAFETY_POLL_SECONDS = 2.0
# How many messages beyond a gap a stream keeps while the run has yet to say it stored the gap;
# past that it reads them from the database.
AHEAD_LIMIT = 500


def hub() -> Hub | None:
    url = settings.OASIS.get("REDIS_URL")
    return hub_for_loop(url) if url else None


def format_event(event: dict) -> str:
    data = json.dumps({"type": event["type"], **event["data"]}, separators=(",", ":"))
    return f"id: {event['seq']}\nevent: {event['type']}\ndata: {data}\n\n"


async def event_stream(*, generation_id: str, after: int) -> AsyncIterator[str]:
    oasis = settings.OASIS
    heartbeat = oasis["SSE_HEARTBEAT_SECONDS"]
    current_hub = hub()
    queue = current_hub.subscribe(generation_id) if current_hub else None
    read = off_request_thread(events_after)
    sent = after
    # Messages from the hub beyond a gap, kept while the database catches up with the gap: a run
    # publishes its model's deltas before it stores them, and says when it has (`events.RunEvents`).
    ahead: dict[int, dict] = {}
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
            for seq in [seq for seq in ahead if seq <= sent]:
                del ahead[seq]  # the database had it
            woke = ahead.pop(sent + 1, None)
            if woke is None:
                # Woken by the hub while it is live; polling at the stream's own pace while it is not.
                wait = (
                    REDIS_SAFETY_POLL_SECONDS
                    if current_hub and current_hub.live
                    else oasis["SSE_POLL_SECONDS"]
                )
                woke = await _wait(queue, min(wait, heartbeat))
            # Deliver straight from the message when it is the next one; keep one beyond a gap.
            while woke is not None:
                if "stored" in woke:
                    if woke["stored"] > sent:
                        break  # the run stored events this stream missed: read them
                elif woke["seq"] == sent + 1:
                    yield format_event(woke)
                    sent = woke["seq"]
                    last_write = loop.time()
                    if woke["type"] in TERMINAL_TYPES:
                        return
                elif woke["seq"] > sent + 1 and len(ahead) < AHEAD_LIMIT:
                    ahead[woke["seq"]] = woke
                woke = ahead.pop(sent + 1, None) or (
                    queue.get_nowait() if queue and not queue.empty() else None
                )
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
