"""Pact matchers the contracts share: shapes of ids, tokens, timestamps and the error envelope."""

from __future__ import annotations

from pact import generate, match
from pact.match.matcher import GenericMatcher

from tests.contract import examples


def uuid(example: str):
    return match.regex(example, regex=examples.UUID)


def timestamp(example: str = "2026-01-01T12:00:00.000000Z"):
    return match.regex(example, regex=examples.TIMESTAMP)


def jwt(example: str):
    return match.regex(example, regex=examples.JWT)


def service_token():
    """The `Authorization` a service sends; provider verification sends a real one from auth."""
    return match.regex(f"Bearer {examples.SERVICE_TOKEN}", regex=examples.BEARER_JWT)


def from_state(example: str, expression: str, pattern: str):
    """A value the provider state supplies (`${name}` in `expression`), `example` in the consumer test."""
    return GenericMatcher("regex", example, generator=generate.provider_state(expression), regex=pattern)


def project_path(suffix: str = ""):
    """/internal/v1/projects/<the project the provider state made><suffix>."""
    base = "/internal/v1/projects/"
    return from_state(
        f"{base}{examples.PROJECT_ID}{suffix}",
        f"{base}${{project_id}}{suffix}",
        f"^{base}[0-9a-f-]{{36}}{suffix}$",
    )


def hold_path(suffix: str):
    base = "/internal/v1/holds/"
    return from_state(
        f"{base}{examples.HOLD_ID}{suffix}",
        f"{base}${{hold_id}}{suffix}",
        f"^{base}[0-9a-f-]{{36}}{suffix}$",
    )


def error(code: str, details: dict | None = None) -> dict:
    """The error envelope with this `code`; `details` lists only what the consumer reads."""
    body = {"code": code, "message": match.str("Why, for a person."), "request_id": match.str("req-1")}
    if details is not None:
        body["details"] = details
    return {"error": body}
