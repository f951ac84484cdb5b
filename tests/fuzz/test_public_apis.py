"""Schemathesis against every service's public API, through the gateway, as a real user with data.

Each operation of each committed `openapi.yaml` under `/api/` is called with generated
valid and invalid input; no answer may be a 5xx, every answer must match the document
(status, content type, body) and every error must be the envelope.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.e2e.system import REPO
from tests.fuzz import checks

EXAMPLES = int(os.environ.get("OASIS_FUZZ_EXAMPLES", "8"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 25,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


def public_api(service: str):
    schema = schemathesis.openapi.from_path(REPO / "services" / service / "openapi.yaml")
    # The event stream never ends by itself; tests/e2e covers it.
    return schema.include(path_regex=r"^/api/").exclude(path_regex=r"/events/$")


def call(case, target: dict, service: str) -> None:
    checks.SENT[service] += 1
    case.call_and_validate(
        base_url=target["base_url"], headers=dict(target["headers"]), checks=checks.CHECKS, timeout=30
    )


auth = public_api("auth")
projects = public_api("projects")
payments = public_api("payments")
builder = public_api("builder")
sites = public_api("sites")


@auth.parametrize()
@FUZZ
def test_auth(case, fuzz_target):
    call(case, fuzz_target, "auth")


@projects.parametrize()
@FUZZ
def test_projects(case, fuzz_target):
    call(case, fuzz_target, "projects")


@payments.parametrize()
@FUZZ
def test_payments(case, fuzz_target):
    call(case, fuzz_target, "payments")


@builder.parametrize()
@FUZZ
def test_builder(case, fuzz_target):
    call(case, fuzz_target, "builder")


@sites.parametrize()
@FUZZ
def test_sites(case, fuzz_target):
    call(case, fuzz_target, "sites")


def test_the_error_envelope_check_refuses_other_error_bodies():
    """The envelope check can fail: a bare DRF error body is not the envelope."""

    class Response:
        status_code = 400
        headers = {"X-Request-ID": ["req-1"]}
        text = '{"detail": "Bad."}'

        def json(self):
            return {"detail": "Bad."}

    with pytest.raises(AssertionError, match="not the error envelope"):
        checks.error_envelope(None, Response(), None)
