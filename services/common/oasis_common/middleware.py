"""Middleware every service runs: probes before host checks, and request ids with access logs."""

from __future__ import annotations

import logging
import time

from oasis_common import context, health

access_log = logging.getLogger("oasis.requests")


class ProbeMiddleware:
    """Answer `/healthz` and `/readyz` before anything validates the Host header.

    Orchestrators probe pods by IP address, which is never in ALLOWED_HOSTS.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in ("/healthz", "/readyz"):
            return self.get_response(request)
        token = context.set_request_id(context.accept_request_id(request.headers.get("X-Request-ID")))
        try:
            return health.healthz(request) if request.path == "/healthz" else health.readyz(request)
        finally:
            context.reset_request_id(token)


class RequestIdMiddleware:
    """Take or make the request id, expose it to logs and peers, and log the request once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = context.accept_request_id(request.headers.get("X-Request-ID"))
        token = context.set_request_id(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            return response
        finally:
            context.reset_request_id(token)
