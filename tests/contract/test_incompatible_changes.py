"""The contracts catch incompatible changes: a provider that renames a field, a consumer that wants one more.

Both changes are planted only for these tests (a separate payments process, a pact in
a temporary folder); the services and the committed pacts stay as they are.
"""

from __future__ import annotations

import pytest
import requests
from pact import match

from generations import peers
from oasis_common import client
from tests.contract import examples, matchers
from tests.contract.conftest import PactBook
from tests.contract.consumers import peers_at
from tests.contract.providers import pacts_for, start_planted, verify

HOLD = "a hold for a generation's ceiling"


def test_a_provider_that_renames_a_response_field_fails_verification(providers):
    renamed = start_planted(providers, "payments", "renamed_hold_field")

    planted = verify(providers, "payments", pacts_for("payments"), base_url=renamed, description=HOLD)
    real = verify(providers, "payments", pacts_for("payments"), description=HOLD)

    assert not planted.passed
    assert "missing the following keys: hold_id" in planted.output
    assert real.passed, real.output


def test_a_consumer_expecting_a_field_the_provider_lacks_fails_verification(providers, tmp_path, monkeypatch):
    monkeypatch.setattr(client, "service_token", lambda audience: examples.SERVICE_TOKEN)
    book = PactBook(tmp_path)
    pact = book.new("builder", "projects")
    (
        pact.upon_receiving("a request for a project's metadata with its owner's email")
        .given("a project of the user", {"owner_id": examples.USER_ID})
        .with_request("GET", matchers.project_path())
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(200)
        .with_body(
            {"id": matchers.uuid(examples.PROJECT_ID), "owner_email": match.str("ada@example.com")},
            content_type="application/json",
        )
    )
    # The consumer's side passes: the mock answers what the consumer asked for.
    with book.serving(pact) as url, peers_at(projects=url):
        assert peers.project_get(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID)["owner_email"]

    verification = verify(providers, "projects", sorted(tmp_path.glob("*.json")))

    assert not verification.passed
    assert "owner_email" in verification.output


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        ("projects", f"/internal/v1/projects/{examples.PROJECT_ID}?owner_id={examples.USER_ID}"),
        ("payments", f"/internal/v1/holds/{examples.HOLD_ID}"),
    ],
)
def test_a_provider_refuses_the_example_token_in_a_pact(providers, provider, path):
    """The pacts' tokens are only examples: verification passes because auth issued a real one."""
    response = requests.get(
        f"{providers.service_url(provider)}{path}",
        headers={"Authorization": f"Bearer {examples.SERVICE_TOKEN}"},
        timeout=10,
    )

    assert response.status_code == 401
