"""Taking or refusing starts: what a builder web process lets through when a burst of builds comes.

Two gates, both per process, both answered with 429 `builder_busy` and `Retry-After`:

- `StartAdmission`, in the ASGI application before Django: once MAX_STARTING * (1 +
  WAITING_PER_TURN) start POSTs are in this process, one more is refused in the event loop. It
  gets no thread, no token check and no database connection, only the middleware that counts,
  names and logs it and sets its headers, so a burst of a thousand does not starve the starts
  the process is making.
- `start_turn`, in the view: MAX_STARTING starts go at once; one past it waits up to
  START_WAIT_SECONDS for a turn, then is refused.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import Resolver404, ResolverMatch, get_resolver
from django_prometheus.middleware import PrometheusAfterMiddleware, PrometheusBeforeMiddleware
from rest_framework import status

from oasis_common.errors import ServiceError, error_response
from oasis_common.middleware import RequestIdMiddleware

# What a refused client is told to wait: about what a full queue takes to drain a little.
BUSY_RETRY_AFTER_SECONDS = 5
# How long a start waits for one of its process's turns before it is refused.
START_WAIT_SECONDS = 2.0
# Starts let in to wait for each turn: about what one process starts in START_WAIT_SECONDS.
WAITING_PER_TURN = 2
START_ROUTE = "project-generations"


class BuilderBusy(ServiceError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "builder_busy"
    message = "More builds are waiting to start than the builder can take now. Try again in a few seconds."


def busy(**details) -> BuilderBusy:
    return BuilderBusy(details=details, headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})


_start_slots: dict[int, threading.BoundedSemaphore] = {}
_start_slots_lock = threading.Lock()


def _slots(limit: int) -> threading.BoundedSemaphore:
    with _start_slots_lock:
        return _start_slots.setdefault(limit, threading.BoundedSemaphore(limit))


def start_turn() -> Callable[[], None]:
    """Take one of this process's turns at starting a run; returns what gives it back.

    MAX_STARTING runs are started at once per process; a start past it waits START_WAIT_SECONDS
    for a turn, then is refused (429, Retry-After), so a burst of POSTs is answered quickly
    instead of crowding projects, the database pool and the CPU until every one times out.
    """
    starting = settings.OASIS["MAX_STARTING"]
    if not starting:
        return lambda: None
    slots = _slots(starting)
    if not slots.acquire(timeout=START_WAIT_SECONDS):
        raise busy(starting_limit=starting)
    return slots.release


def _start_route(scope) -> ResolverMatch | None:
    """The route a start POST resolves to; None for any other request."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    try:
        match = get_resolver().resolve(scope["path"])
    except Resolver404:
        return None
    return match if match.url_name == START_ROUTE else None


class StartAdmission:
    """ASGI middleware: count the start POSTs inside the application, refuse one past the bound.

    The count lives in the event loop's thread, so it needs no lock. A refusal has the envelope,
    `Retry-After`, the request id, the access log line and the request metrics every answer has.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.inside = 0

    async def __call__(self, scope, receive, send) -> None:
        route = _start_route(scope)
        if route is None:
            await self.app(scope, receive, send)
            return
        starting = settings.OASIS["MAX_STARTING"]
        if starting and self.inside >= starting * (1 + WAITING_PER_TURN):
            await self._refuse(scope, route, send, starting)
            return
        self.inside += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inside -= 1

    async def _refuse(self, scope, route: ResolverMatch, send, starting: int) -> None:
        response = _refusal(scope, route, busy(starting_limit=starting))
        response["Content-Length"] = str(len(response.content))
        headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in response.items()
        ]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})


def _refusal(scope, route: ResolverMatch, exc: BuilderBusy) -> HttpResponse:
    """`exc`'s answer through the middleware every answer goes through that needs no database, in
    the settings' order: the request metrics (counted under the start's view, like a refusal by
    the view itself), the request id (taken or made, in the envelope and the header) with its
    access log line, and the security and framing headers."""
    chain = PrometheusBeforeMiddleware(
        RequestIdMiddleware(
            SecurityMiddleware(
                XFrameOptionsMiddleware(PrometheusAfterMiddleware(lambda _: error_response(exc)))
            )
        )
    )
    request = ASGIRequest(scope, io.BytesIO())
    request.resolver_match = route
    return chain(request)
