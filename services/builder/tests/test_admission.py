"""Start admission before Django: a start past the process's bound is refused in the event loop."""

import asyncio
import json
import logging
import uuid

import pytest
from asgiref.testing import ApplicationCommunicator
from prometheus_client import REGISTRY

from generations.admission import WAITING_PER_TURN, BuilderBusy, StartAdmission

START_PATH = f"/api/v1/builder/projects/{uuid.uuid4()}/generations/"


def http_scope(method: str, path: str, *headers: tuple[bytes, bytes]) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def answer(app, scope: dict) -> tuple[int, dict, dict]:
    """The status, headers and JSON body `app` answers `scope` with (a small JSON POST body sent)."""
    communicator = ApplicationCommunicator(app, scope)
    await communicator.send_input({"type": "http.request", "body": b'{"prompt": "a bakery"}'})
    start = await communicator.receive_output(timeout=5)
    body = b""
    while True:
        message = await communicator.receive_output(timeout=5)
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await communicator.wait(timeout=5)
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, json.loads(body) if body else {}


class HeldApplication:
    """An application that answers 202 only once released, and counts what reached it."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.reached: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.reached.append((scope["method"], scope["path"]))
        await self.released.wait()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def inside_at_once(app, admission: StartAdmission, count: int) -> list[asyncio.Task]:
    """`count` start POSTs that reach `app` and stay there."""
    held = [asyncio.create_task(answer(admission, http_scope("POST", START_PATH))) for _ in range(count)]
    while len(app.reached) < count:
        await asyncio.sleep(0.01)
    return held


def test_a_start_past_the_bound_is_refused_with_the_envelope_and_never_reaches_the_application(
    settings, caplog
):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}
    bound = 1 + WAITING_PER_TURN
    caplog.set_level(logging.INFO, logger="oasis.requests")

    async def go():
        app = HeldApplication()
        admission = StartAdmission(app)
        held = await inside_at_once(app, admission, bound)
        refused = await answer(admission, http_scope("POST", START_PATH, (b"x-request-id", b"burst-0001")))
        reached = len(app.reached)
        app.released.set()
        return refused, reached, [await task for task in held]

    (status, headers, body), reached, held = asyncio.run(go())

    assert status == 429
    assert headers["retry-after"] == "5"
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] == "burst-0001"
    # What Django's middleware puts on every answer, this one included.
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert int(headers["content-length"]) > 0
    assert body == {
        "error": {
            "code": "builder_busy",
            "message": BuilderBusy.message,
            "details": {"starting_limit": 1},
            "request_id": "burst-0001",
        }
    }
    assert reached == bound
    assert [status for status, _, _ in held] == [202] * bound
    [logged] = [record for record in caplog.records if record.name == "oasis.requests"]
    assert (logged.method, logged.path, logged.status) == ("POST", START_PATH, 429)
    assert logged.request_id == "burst-0001"


def refusals_counted() -> float:
    """Starts answered 429 in django_prometheus's count of responses by status, view and method."""
    labels = {"status": "429", "view": "project-generations", "method": "POST"}
    return REGISTRY.get_sample_value("django_http_responses_total_by_status_view_method_total", labels) or 0


def test_a_refusal_is_counted_in_the_request_metrics_under_the_start_view(settings):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}
    counted_before = refusals_counted()

    async def go():
        app = HeldApplication()
        admission = StartAdmission(app)
        held = await inside_at_once(app, admission, 1 + WAITING_PER_TURN)
        refused = [await answer(admission, http_scope("POST", START_PATH)) for _ in range(2)]
        app.released.set()
        await asyncio.gather(*held)
        return refused

    assert [status for status, _, _ in asyncio.run(go())] == [429, 429]
    assert refusals_counted() == counted_before + 2


def test_a_refusal_without_a_usable_request_id_gets_a_new_one(settings):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}

    async def go():
        app = HeldApplication()
        admission = StartAdmission(app)
        held = await inside_at_once(app, admission, 1 + WAITING_PER_TURN)
        refused = await answer(admission, http_scope("POST", START_PATH, (b"x-request-id", b"no good\n")))
        app.released.set()
        await asyncio.gather(*held)
        return refused

    _, headers, body = asyncio.run(go())

    assert headers["x-request-id"] == body["error"]["request_id"]
    assert len(body["error"]["request_id"]) >= 8
    assert body["error"]["request_id"] != "no good\n"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", START_PATH),
        ("POST", f"/api/v1/builder/projects/{uuid.uuid4()}/estimate/"),
        ("POST", f"/api/v1/builder/generations/{uuid.uuid4()}/cancel/"),
        ("POST", "/api/v1/builder/projects/not-a-uuid/generations/"),
        ("POST", "/nowhere/"),
    ],
)
def test_only_starts_are_counted_and_refused(settings, method, path):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}

    async def go():
        app = HeldApplication()
        admission = StartAdmission(app)
        held = await inside_at_once(app, admission, 1 + WAITING_PER_TURN)
        other = asyncio.create_task(answer(admission, http_scope(method, path)))
        while len(app.reached) < 2 + WAITING_PER_TURN:
            await asyncio.sleep(0.01)
        app.released.set()
        await asyncio.gather(*held)
        return await other, admission.inside

    (status, _, _), inside = asyncio.run(go())

    assert status == 202
    assert inside == 0


def test_a_start_that_leaves_lets_the_next_one_in_even_when_the_application_failed(settings):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 1}

    async def failing(scope, receive, send):
        raise RuntimeError("the application broke")

    async def go():
        admission = StartAdmission(failing)
        for _ in range(2 * (1 + WAITING_PER_TURN)):
            with pytest.raises(RuntimeError):
                await admission(http_scope("POST", START_PATH), None, None)
        return admission.inside

    assert asyncio.run(go()) == 0


def test_no_start_is_refused_here_when_starts_are_not_limited(settings):
    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 0}

    async def go():
        app = HeldApplication()
        admission = StartAdmission(app)
        held = await inside_at_once(app, admission, 50)
        app.released.set()
        return [status for status, _, _ in await asyncio.gather(*held)]

    assert asyncio.run(go()) == [202] * 50


def test_the_builders_asgi_application_admits_its_starts_before_django(settings, monkeypatch):
    from config import asgi

    settings.OASIS = {**settings.OASIS, "MAX_STARTING": 2}
    admission = asgi.django_with_admission
    # Below the bound the start reaches Django, which asks for a token; at it, the start is refused.
    monkeypatch.setattr(admission, "inside", 2 * (1 + WAITING_PER_TURN) - 1)
    status_below, _, below = asyncio.run(answer(asgi.application, http_scope("POST", START_PATH)))
    monkeypatch.setattr(admission, "inside", 2 * (1 + WAITING_PER_TURN))
    status_at, _, at = asyncio.run(answer(asgi.application, http_scope("POST", START_PATH)))

    assert (status_below, below["error"]["code"]) == (401, "not_authenticated")
    assert (status_at, at["error"]["code"]) == (429, "builder_busy")
    assert at["error"]["details"] == {"starting_limit": 2}
