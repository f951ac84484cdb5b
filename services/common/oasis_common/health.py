"""Liveness and readiness: `/healthz` does no I/O, `/readyz` checks what the service needs.

Readiness is the database, the peers named in `OASIS_READY_PEERS`, and whatever a service adds
with `ready_check_add` (the sites service: its store takes writes). The cache is checked and
reported too, but a failing cache leaves the service `degraded`, still ready: Redis is a cache
and a signal, never the only copy, and taking every pod out of its Service while Redis is down
would turn a slower system into no system. A failing check is logged with its reason; the
answer names only the check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import requests
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse

from oasis_common.conf import oasis_settings
from oasis_common.errors import envelope

logger = logging.getLogger("oasis.health")

# Checks whose failure slows the service but does not stop it.
OPTIONAL = frozenset({"cache"})
# The checks a service adds to readiness, by name: each raises, saying why, when not ready.
_added_checks: dict[str, Callable[[], None]] = {}


def ready_check_add(name: str, check: Callable[[], None]) -> None:
    """Make `/readyz` also run `check` (from the service's AppConfig.ready)."""
    _added_checks[name] = check


def healthz(request):
    return JsonResponse({"status": "ok", "service": oasis_settings.SERVICE_NAME})


def _check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_cache() -> None:
    cache.get("oasis-readyz")


def _check_peer(url: str) -> None:
    response = requests.get(f"{url.rstrip('/')}/healthz", timeout=(1, 2))
    response.raise_for_status()


def readyz(request):
    checks = {"database": _check_database, "cache": _check_cache}
    for peer in oasis_settings.READY_PEERS:
        checks[f"peer:{peer}"] = lambda url=peer: _check_peer(url)
    checks.update(_added_checks)
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            # The cause, for operators: Redis's or the store's own words, not only a class name.
            logger.warning("readiness check %s failed: %s: %s", name, exc.__class__.__name__, exc)
            results[name] = "failing"
    if all(value == "ok" for value in results.values()):
        return JsonResponse({"status": "ready", "checks": results})
    if all(value == "ok" for name, value in results.items() if name not in OPTIONAL):
        return JsonResponse({"status": "degraded", "checks": results})
    body = envelope("not_ready", "The service is not ready.", {"checks": results})
    return JsonResponse(body, status=503)
