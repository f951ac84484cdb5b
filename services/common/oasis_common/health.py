"""Liveness and readiness: `/healthz` does no I/O, `/readyz` checks what the service needs."""

from __future__ import annotations

import logging

import requests
from django.core.cache import cache
from django.db import connections
from django.http import JsonResponse

from oasis_common.conf import oasis_settings
from oasis_common.errors import envelope

logger = logging.getLogger("oasis.health")


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
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            logger.warning("readiness check %s failed: %s", name, exc.__class__.__name__)
            results[name] = "failing"
    if all(value == "ok" for value in results.values()):
        return JsonResponse({"status": "ready", "checks": results})
    body = envelope("not_ready", "The service is not ready.", {"checks": results})
    return JsonResponse(body, status=503)
