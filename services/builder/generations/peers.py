"""The builder's calls to projects and payments (their internal APIs), through the platform client."""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, wraps

from django.conf import settings
from rest_framework import status

from generations.connections import release_connection
from oasis_common.client import ServiceClient
from oasis_common.errors import NotFound, PeerUnavailable, ServiceError

logger = logging.getLogger("oasis.peers")

# Waits between tries of `while_unavailable`: doubling from the first, never above the last.
BACKOFF_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 5.0


@cache
def projects() -> ServiceClient:
    return ServiceClient("projects", settings.OASIS["PROJECTS_URL"])


@cache
def payments() -> ServiceClient:
    return ServiceClient("payments", settings.OASIS["PAYMENTS_URL"])


def _peer_call(function: Callable) -> Callable:
    """A peer may take seconds to answer (timeouts, retries): no database connection is held meanwhile."""

    @wraps(function)
    def call(*args, **kwargs):
        release_connection()
        return function(*args, **kwargs)

    return call


# Threads for peer calls made while the caller goes on with other work; more wait their turn.
CONCURRENT_CALL_THREADS = 32
_concurrent_calls = ThreadPoolExecutor(CONCURRENT_CALL_THREADS, thread_name_prefix="peer-call")


def concurrently(call: Callable, /, **kwargs) -> Future:
    """`call(**kwargs)` on another thread, in this one's context (its request id, its log fields),
    while this one goes on; the future's `result()` answers or raises as the call did."""
    return _concurrent_calls.submit(contextvars.copy_context().run, call, **kwargs)


def while_unavailable(call: Callable, *, seconds: float, until: threading.Event | None = None):
    """`call`, asked again with backoff while its peer is unavailable, for `seconds` at most.

    For calls that are safe to repeat (idempotent by key): long enough to ride out a peer's
    restart, after which the last `PeerUnavailable` is raised; at once when `until` is set
    (whoever wanted the answer no longer does).
    """
    deadline = time.monotonic() + seconds
    delay = BACKOFF_SECONDS
    until = until or threading.Event()
    while True:
        try:
            return call()
        except PeerUnavailable as unavailable:
            if time.monotonic() + delay > deadline or until.is_set():
                raise
            logger.warning(
                "%s is unavailable; asking again in %.2f s", unavailable.details.get("service"), delay
            )
            if until.wait(delay):
                raise
            delay = min(delay * 2, BACKOFF_MAX_SECONDS)


def _unexpected(service: str, response) -> PeerUnavailable:
    return PeerUnavailable(details={"service": service, "status": response.status_code})


# ---- projects ----


@_peer_call
def project_get(*, project_id, owner_id) -> dict:
    """The project's metadata if it belongs to `owner_id`; NotFound otherwise (never a leak)."""
    response = projects().get(f"/internal/v1/projects/{project_id}", params={"owner_id": str(owner_id)})
    if response.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound("No such project.")
    if response.status_code != status.HTTP_200_OK:
        raise _unexpected("projects", response)
    return response.json()


@_peer_call
def project_snapshot(*, project_id, owner_id, revision: int | None = None, max_bytes: int) -> dict:
    params = {"owner_id": str(owner_id), "max_bytes": max_bytes}
    if revision is not None:
        params["revision"] = revision
    response = projects().get(f"/internal/v1/projects/{project_id}/snapshot", params=params)
    if response.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound("No such project.")
    if response.status_code != status.HTTP_200_OK:
        raise _unexpected("projects", response)
    return response.json()


class ChangeConflict(Exception):
    def __init__(self, paths: list[str]) -> None:
        super().__init__(paths)
        self.paths = paths


class ChangeRefused(Exception):
    """Projects refused the change set (a limit or a path rule); the details say why."""

    def __init__(self, error: dict) -> None:
        super().__init__(error.get("message", ""))
        self.error = error


@_peer_call
def project_apply_changes(
    *, project_id, owner_id, generation_id, base_revision: int, message: str, changes: dict
) -> dict:
    """Land the run's changes as one revision, idempotent by generation id."""
    response = projects().post(
        f"/internal/v1/projects/{project_id}/changes",
        json={
            "owner_id": str(owner_id),
            "generation_id": str(generation_id),
            "base_revision": base_revision,
            "message": message,
            **changes,
        },
        idempotency_key=f"generation:{generation_id}",
    )
    if response.status_code in (status.HTTP_200_OK, status.HTTP_201_CREATED):
        return response.json()
    error = _error_of(response)
    if error.get("code") == "stale_base_revision":
        raise ChangeConflict(error.get("details", {}).get("paths", []))
    if status.HTTP_400_BAD_REQUEST <= response.status_code < 500 and response.status_code != 401:
        raise ChangeRefused(error)
    raise _unexpected("projects", response)


@_peer_call
def project_restore(*, project_id, owner_id, revision: int, message: str) -> tuple[dict, bool]:
    """Make the project's files those of `revision` again, as a new revision; the revision standing
    now and whether it is new (not when the files already were those).

    Safe to ask again: restoring what is already there makes nothing.
    """
    response = projects().post(
        f"/internal/v1/projects/{project_id}/restore",
        json={"owner_id": str(owner_id), "revision": revision, "message": message},
    )
    if response.status_code in (status.HTTP_200_OK, status.HTTP_201_CREATED):
        return response.json(), response.status_code == status.HTTP_201_CREATED
    if response.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound("The project or its revision no longer exists.", code="revision_not_found")
    raise _unexpected("projects", response)


def _error_of(response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body.get("error", {}) if isinstance(body, dict) else {}


# ---- payments ----


class InsufficientCredits(ServiceError):
    status_code = status.HTTP_402_PAYMENT_REQUIRED
    code = "insufficient_credits"
    message = "Not enough credits for this generation."


@dataclass(frozen=True)
class Hold:
    id: str
    amount: int


@_peer_call
def hold_create(*, user_id, amount: int, generation_id) -> Hold:
    # The hold outlives the longest run, and the sweeper's grace after it.
    ttl = int(settings.OASIS["MAX_WALL_SECONDS"]) + 15 * 60
    response = payments().post(
        "/internal/v1/holds",
        json={
            "user_id": str(user_id),
            "amount": amount,
            "reason": "generation",
            "generation_id": str(generation_id),
            "ttl_seconds": ttl,
        },
        idempotency_key=f"hold:{generation_id}",
    )
    if response.status_code == status.HTTP_402_PAYMENT_REQUIRED:
        details = response.json().get("error", {}).get("details", {})
        raise InsufficientCredits(details={"available": details.get("available"), "required": amount})
    if response.status_code != status.HTTP_201_CREATED:
        raise _unexpected("payments", response)
    body = response.json()
    return Hold(id=str(body["hold_id"]), amount=int(body["amount"]))


# A hold that expired or was released already is settled: its credits went back to the user.
SETTLED_ALREADY = frozenset({"hold_not_open", "hold_expired"})


@_peer_call
def hold_capture(*, hold_id: str, amount: int, generation_id) -> bool:
    """Charge `amount` of the hold (the rest is released); False if the hold had already ended."""
    response = payments().post(
        f"/internal/v1/holds/{hold_id}/capture",
        json={"amount": amount},
        idempotency_key=f"capture:{generation_id}",
    )
    return _settled(response)


@_peer_call
def hold_release(*, hold_id: str, generation_id) -> bool:
    response = payments().post(
        f"/internal/v1/holds/{hold_id}/release", json={}, idempotency_key=f"release:{generation_id}"
    )
    return _settled(response)


def _settled(response) -> bool:
    if response.status_code == status.HTTP_200_OK:
        return True
    if (
        response.status_code == status.HTTP_409_CONFLICT
        and _error_of(response).get("code") in SETTLED_ALREADY
    ):
        return False
    raise _unexpected("payments", response)
