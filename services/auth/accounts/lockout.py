"""Brute-force protection for logins: failures counted per account and per IP in the shared cache.

After the configured number of failures the account (or address) is locked for the
lockout period; every attempt meanwhile, right or wrong, gets 429 with Retry-After.
While the cache is down nothing is counted or locked (sign-in keeps working); the gateway's
per-address rate limit on the auth endpoints still bounds guessing.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache

from oasis_common.errors import TooManyRequests
from tokens import shared_cache


def _subjects(email: str, ip: str) -> list[tuple[str, int]]:
    oasis = settings.OASIS
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return [
        (f"login-account:{account}", oasis["LOGIN_MAX_FAILURES_PER_ACCOUNT"]),
        (f"login-ip:{ip}", oasis["LOGIN_MAX_FAILURES_PER_IP"]),
    ]


def lockout_check(*, email: str, ip: str) -> None:
    now = time.time()
    locks = shared_cache.get_many([f"{subject}:locked-until" for subject, _ in _subjects(email, ip)])
    until = max(locks.values(), default=0)
    if until > now:
        raise TooManyRequests(
            "Too many failed sign-in attempts. Try again later.",
            code="login_locked",
            retry_after=int(until - now) + 1,
        )


def failure_record(*, email: str, ip: str) -> None:
    if not shared_cache.available():
        return
    try:
        _failures_count(email=email, ip=ip)
    except Exception as exc:  # the cache failed: this failure goes uncounted
        shared_cache.failed("count", exc)


def _failures_count(*, email: str, ip: str) -> None:
    window = settings.OASIS["LOGIN_LOCKOUT_SECONDS"]
    for subject, limit in _subjects(email, ip):
        counter = f"{subject}:failures"
        cache.add(counter, 0, timeout=window)
        try:
            failures = cache.incr(counter)
        except ValueError:  # expired between add and incr
            cache.add(counter, 1, timeout=window)
            failures = 1
        if failures >= limit:
            cache.set(f"{subject}:locked-until", time.time() + window, timeout=window)


def failures_clear(*, email: str) -> None:
    subject, _ = _subjects(email, "")[0]
    shared_cache.delete_many([f"{subject}:failures", f"{subject}:locked-until"])
