"""The current request's id, visible to logging and outgoing service calls."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_request_id: ContextVar[str] = ContextVar("oasis_request_id", default="")


def get_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str):
    return _request_id.set(value)


def reset_request_id(token) -> None:
    _request_id.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(candidate: str | None) -> str:
    """Keep a well-formed incoming id so one request can be followed across services."""
    if candidate and REQUEST_ID_PATTERN.match(candidate):
        return candidate
    return new_request_id()
