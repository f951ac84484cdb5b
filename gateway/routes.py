"""What the gateway routes to each service, and what is public there.

One table for every environment: development, the tests, compose and Kubernetes all
render the nginx template from it. A service appears only when an upstream is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    service: str
    # Every path under these prefixes goes to the service, after the token check.
    prefixes: tuple[str, ...]
    # Exact paths reachable without a token.
    public_paths: tuple[str, ...] = ()
    # Prefixes reachable without a token (signed preview links carry their own proof).
    public_prefixes: tuple[str, ...] = ()
    # Public paths that get the strict per-IP rate limit (sign-in and friends).
    rate_limited_paths: tuple[str, ...] = ()
    # Regular expressions of streaming paths (Server-Sent Events): never buffered.
    streams: tuple[str, ...] = ()
    # Streams a browser's EventSource (which cannot send a header) may open with a stream ticket in
    # the query instead of a token: with `ticket` and no Authorization, the service checks the ticket.
    ticket_streams: tuple[str, ...] = ()
    # Locations that take large bodies (uploads), with their limit.
    large_bodies: dict[str, str] = field(default_factory=dict)


BUILDER_EVENTS = r"^/api/v1/builder/generations/[^/]+/events/?$"

ROUTES = (
    Route(
        service="auth",
        prefixes=("/api/v1/auth/",),
        public_paths=(
            "/api/v1/auth/register/",
            "/api/v1/auth/token/",
            "/api/v1/auth/token/refresh/",
            "/api/v1/auth/password/reset/",
            "/api/v1/auth/password/reset/confirm/",
            "/api/v1/auth/.well-known/jwks.json",
            "/api/v1/auth/.well-known/openid-configuration",
        ),
        rate_limited_paths=(
            "/api/v1/auth/register/",
            "/api/v1/auth/token/",
            "/api/v1/auth/token/refresh/",
            "/api/v1/auth/password/reset/",
            "/api/v1/auth/password/reset/confirm/",
        ),
    ),
    Route(
        service="projects",
        prefixes=("/api/v1/projects/",),
        public_prefixes=("/preview/",),
        large_bodies={"/api/v1/projects/": "64m"},
    ),
    Route(
        service="payments",
        prefixes=("/api/v1/payments/",),
        public_paths=("/api/v1/payments/webhooks/stripe/",),
    ),
    Route(
        service="builder",
        prefixes=("/api/v1/builder/",),
        public_paths=("/api/v1/builder/models/",),
        streams=(BUILDER_EVENTS,),
        ticket_streams=(BUILDER_EVENTS,),
    ),
    # Visitors of published sites never reach the service: the gateway serves its store.
    Route(
        service="sites",
        prefixes=("/api/v1/sites/",),
    ),
)
