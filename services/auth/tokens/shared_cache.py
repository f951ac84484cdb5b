"""The shared cache (Redis) as auth uses it: a helper, never the only copy of anything.

Redis may be down, slow or restarted empty. A read here answers "missing" instead of raising,
so the caller asks the database (revocations, API keys) or goes without (login-failure counts,
rate limits); a write that fails is logged, not raised (the database holds the truth). After a
failure this process leaves the cache alone for SKIP_SECONDS, so while Redis is down a request
goes straight to the database instead of waiting out the socket timeout (2 s when Redis hangs)
each time; while it keeps failing the pause doubles, up to MAX_SKIP_SECONDS, so a hung Redis
holds up one request per process a minute, not one every few seconds.

A revocation whose cache write failed may leave an older entry in Redis (Redis was unreachable
from here, not empty). Its key is remembered and deleted before this process reads the cache
again, so the entry is reloaded from the database rather than trusted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("oasis.auth.cache")

SKIP_SECONDS = 5.0
MAX_SKIP_SECONDS = 60.0
# Keys whose write failed, to delete once the cache answers again; revocations are rare, and
# past this many the oldest are dropped (their entries expire on their own within minutes).
MAX_STALE_KEYS = 10_000

_lock = threading.Lock()
_skip_until = 0.0
_failures_in_a_row = 0
_stale: dict[str, None] = {}  # insertion-ordered set


def available() -> bool:
    """False for a few seconds after a failure: callers then use the database alone."""
    return time.monotonic() >= _skip_until


def get_many(keys: Iterable[str]) -> dict[str, Any]:
    """The cached values found; {} while the cache is unavailable (every key then reads as missing)."""
    keys = list(keys)
    if not available():
        return {}
    try:
        _forget_stale()
        found = cache.get_many(keys)
    except Exception as exc:  # any backend error: redis ConnectionError, TimeoutError, ResponseError…
        failed("read", exc)
        return {}
    _answered()
    return found


def get(key: str) -> Any:
    return get_many([key]).get(key)


def add(key: str, value: Any, *, timeout: int) -> None:
    """Cache what was just read from the database, unless a writer published meanwhile."""
    if not available():
        return
    try:
        cache.add(key, value, timeout=timeout)
    except Exception as exc:
        failed("add", exc)
        return
    _answered()


def set(key: str, value: Any, *, timeout: int) -> None:
    """Publish a change already committed to the database."""
    if available():
        try:
            cache.set(key, value, timeout=timeout)
        except Exception as exc:
            failed("write", exc)
        else:
            _answered()
            return
    _remember_stale(key)


def delete(key: str) -> None:
    """Drop an entry so the next check reads the database."""
    delete_many([key])


def delete_many(keys: Iterable[str]) -> None:
    keys = list(keys)
    if available():
        try:
            cache.delete_many(keys)
        except Exception as exc:
            failed("delete", exc)
        else:
            _answered()
            return
    for key in keys:
        _remember_stale(key)


def reset() -> None:
    """Forget failures and pending deletions (tests)."""
    global _skip_until, _failures_in_a_row
    with _lock:
        _skip_until = 0.0
        _failures_in_a_row = 0
        _stale.clear()


def failed(operation: str, exc: Exception) -> None:
    """Note a failure of the cache: it is left alone for a while, longer each time in a row."""
    global _skip_until, _failures_in_a_row
    with _lock:
        _failures_in_a_row += 1
        pause = min(SKIP_SECONDS * 2 ** (_failures_in_a_row - 1), MAX_SKIP_SECONDS)
        _skip_until = time.monotonic() + pause
    logger.warning(
        "The shared cache failed (%s: %s); it is skipped for the next %ss.",
        operation,
        exc.__class__.__name__,
        pause,
    )


def _answered() -> None:
    global _failures_in_a_row
    if _failures_in_a_row:
        with _lock:
            _failures_in_a_row = 0


def _remember_stale(key: str) -> None:
    with _lock:
        _stale[key] = None
        while len(_stale) > MAX_STALE_KEYS:
            del _stale[next(iter(_stale))]


def _forget_stale() -> None:
    """Delete the entries failed writes left behind, before anything is read (raises if the cache fails)."""
    if not _stale:
        return
    with _lock:
        keys = list(_stale)
    cache.delete_many(keys)
    with _lock:
        for key in keys:
            _stale.pop(key, None)
