"""DRF's scoped per-address rate limit, letting requests through while the shared cache is down."""

from rest_framework import throttling

from tokens import shared_cache


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """The counts live in the shared cache: while it is down, requests pass uncounted (the
    gateway's per-address rate limit still applies) instead of failing with it."""

    def allow_request(self, request, view) -> bool:
        if not shared_cache.available():
            return True
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            shared_cache.failed("throttle", exc)
            return True
