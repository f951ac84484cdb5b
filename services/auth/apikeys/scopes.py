"""What an API key may do: its scope, checked by the gateway's token check on every request.

`read` allows the safe methods; `build` adds starting, estimating and cancelling builder
generations; `full` allows what the account may do. No key, whatever its scope, manages
API keys or the account's credentials: a leaked key could otherwise mint its own successors
or lock its owner out.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from rest_framework import status

from oasis_common.errors import ServiceError

READ = "read"
BUILD = "build"
FULL = "full"
CHOICES = [
    (READ, "Read: safe methods (GET, HEAD, OPTIONS) only"),
    (BUILD, "Build: read, and start, estimate or cancel builder generations"),
    (FULL, "Full: everything the account can do except manage API keys and credentials"),
]
SCOPES = tuple(name for name, _ in CHOICES)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Matched against the path exactly as sent: a path that needs normalising matches none of them.
BUILD_REQUESTS = (
    ("POST", re.compile(rf"^/api/v1/builder/projects/{_UUID}/generations/$")),
    ("POST", re.compile(rf"^/api/v1/builder/generations/{_UUID}/cancel/$")),
    ("POST", re.compile(r"^/api/v1/builder/estimate/$")),
)
ACCOUNT_ONLY = (
    re.compile(r"^/api/v1/auth/api-keys(/|$)"),
    re.compile(r"^/api/v1/auth/password/change(/|$)"),
)


# The API reference's words for the rules above (accounts.authentication.ApiKeyScheme).
DESCRIPTION = (
    "A personal API key, sent as `Authorization: Bearer oak_…`. Create one with "
    "`POST /api/v1/auth/api-keys/` (its secret is shown once). The gateway exchanges it for a "
    "short-lived JWT carrying the key's `scope`, and refuses with 403 `insufficient_scope` any "
    "request beyond that scope:\n\n"
    "- `read`: GET, HEAD and OPTIONS only.\n"
    "- `build`: read, and start (`POST /api/v1/builder/projects/{id}/generations/`), estimate "
    "(`POST /api/v1/builder/estimate/`) or cancel (`POST /api/v1/builder/generations/{id}/cancel/`) "
    "generations.\n"
    "- `full` (the default): everything the account can do.\n\n"
    "No key, whatever its scope, lists, creates, renames or deletes API keys, or changes the "
    "account's password or email: those need a sign-in."
)


class InsufficientScope(ServiceError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "insufficient_scope"
    message = "This API key's scope does not allow this request."


class AccountOnly(InsufficientScope):
    message = "API keys cannot manage API keys or account credentials. Sign in to do this."


def _normalised(path: str) -> str:
    """The path as nginx routes it: dot segments resolved, repeated slashes merged."""
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment not in ("", "."):
            segments.append(segment)
    trailing = "/" if path.endswith(("/", "/.", "/..")) and segments else ""
    return "/" + "/".join(segments) + trailing


def _path_forms(uri: str) -> set[str]:
    """Every form of the path a hop may act on: as decoded (the service) and as normalised (nginx)."""
    decoded = unquote(uri.partition("?")[0])
    return {decoded, _normalised(decoded)}


def scope_check(*, scope: str, method: str, uri: str) -> None:
    """Raise InsufficientScope unless a key of `scope` may send `method` to `uri`."""
    method = method.upper()
    if any(pattern.match(path) for pattern in ACCOUNT_ONLY for path in _path_forms(uri)):
        raise AccountOnly()
    if scope == FULL:
        return
    if method in SAFE_METHODS and scope in (READ, BUILD):
        return
    path = uri.partition("?")[0]
    if scope == BUILD and any(method == verb and pattern.match(path) for verb, pattern in BUILD_REQUESTS):
        return
    raise InsufficientScope()


def via_api_key(principal) -> bool:
    """Whether the caller holds an API key's phantom token rather than a session of its own."""
    return bool(getattr(principal, "claims", {}).get("api_key_id"))
