"""What the fuzzing checks besides schemathesis's own, and how it reaches the data a real user has.

Every error body must be the envelope `{"error": {"code", "message", "details", "request_id"}}`.
Path parameters are sometimes the seeded user's real ids, so operations are exercised
on real projects, files and generations as well as on ids that do not exist.
"""

from __future__ import annotations

import re
from collections import Counter

import schemathesis
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The seeded user's project, generation and API key ids (tests/fuzz/conftest.py).
REAL_IDS: dict[str, str] = {}
# Requests sent, per service.
SENT: Counter = Counter()
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")


@schemathesis.check
def error_envelope(ctx, response, case) -> bool | None:
    """Every 4xx and 5xx body is the platform's error envelope."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.text[:200]!r}") from exc
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or set(error) != {"code", "message", "details", "request_id"}:
        raise AssertionError(f"{response.status_code} body is not the error envelope: {body!r}")
    if not (isinstance(error["code"], str) and SNAKE_CASE.match(error["code"])):
        raise AssertionError(f"error code {error['code']!r} is not snake_case")
    if not isinstance(error["message"], str) or not isinstance(error["details"], dict):
        raise AssertionError(f"error message or details malformed: {error!r}")
    request_ids = {name.lower(): values for name, values in response.headers.items()}.get(
        "x-request-id", [""]
    )
    if error["request_id"] != request_ids[0]:
        raise AssertionError("the envelope's request_id is not the response's X-Request-ID")
    return True


@schemathesis.check
def documented_body(ctx, response, case) -> bool | None:
    """A body the service sends is described in the document (schemathesis validates only what is)."""
    if response.status_code in (204, 304) or not response.content:
        return None
    definition = case.operation.responses.find_by_status_code(response.status_code)
    if definition is not None and not definition.definition.get("content"):
        raise AssertionError(f"{response.status_code} sends a body its documentation does not describe")
    return True


# Answers the gateway gives for any path before a service sees the request (its envelope still applies).
GATEWAY_STATUSES = frozenset({414, 429})


def documented_status(ctx, response, case) -> bool | None:
    """Every status a service answers is documented for the operation."""
    if response.status_code in GATEWAY_STATUSES:
        return None
    return status_code_conformance(ctx, response, case)


def server_error(ctx, response, case) -> bool | None:
    """No request at all may end in a 5xx, whatever it sent (unlike a 503 from a peer that is down)."""
    if response.status_code >= 500:
        raise AssertionError(
            f"{response.status_code} for {case.method} {case.formatted_path}: {response.text[:300]}"
        )
    return None


CHECKS = [
    server_error,
    documented_status,
    content_type_conformance,
    response_schema_conformance,
    error_envelope,
]


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, the seeded user's real ids instead of random ones (never for a DELETE of them)."""
    if not path_parameters or context.operation is None or context.operation.method.upper() == "DELETE":
        return st.just(path_parameters)
    real = {name: REAL_IDS[name] for name in path_parameters if name in REAL_IDS}
    if not real:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **real}])
