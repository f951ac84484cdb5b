"""gateway → auth: what nginx expects from `/internal/v1/verify`, driven through the real rendered gateway.

The consumer is nginx itself: each test starts the gateway with Pact's mock server as
its auth upstream and sends a request through it, so the contract records exactly what
nginx asks and the test shows what nginx does with the answer.
"""

from __future__ import annotations

import pytest
import requests
from pact import match

from tests.contract import examples, matchers
from tests.contract.gateway import echo_service, gateway

VERIFY = "/internal/v1/verify"


@pytest.fixture
def through_gateway(pacts, tmp_path):
    """Serve `pact` as auth and send one GET for a protected projects path through the gateway."""

    def send(pact, headers: dict) -> requests.Response:
        with (
            pacts.serving(pact) as auth,
            echo_service() as projects,
            gateway(tmp_path, auth=auth.removeprefix("http://"), projects=projects) as url,
        ):
            return requests.get(f"{url}/api/v1/projects/", headers=headers, timeout=10)

    return send


def user_checked(pact, state: str, credential: str, expression: str, pattern: str):
    (
        pact.upon_receiving(f"the gateway's check of {state}")
        .given(state)
        .with_request("GET", VERIFY)
        .with_header("Authorization", matchers.from_state(f"Bearer {credential}", expression, pattern))
        .will_respond_with(200)
        .with_header("X-User-Id", matchers.uuid(examples.USER_ID))
        .with_header("X-Oasis-Token", matchers.jwt(examples.ACCESS_TOKEN))
    )


def test_a_valid_access_token_reaches_the_service_with_the_user_id(pacts, through_gateway):
    pact = pacts.new("gateway", "auth")
    user_checked(pact, "a signed-in user", examples.ACCESS_TOKEN, "Bearer ${access}", examples.BEARER_JWT)

    response = through_gateway(pact, {"Authorization": f"Bearer {examples.ACCESS_TOKEN}"})

    assert response.status_code == 200
    seen = response.json()["headers"]
    assert seen["X-User-Id"] == examples.USER_ID
    assert seen["Authorization"] == f"Bearer {examples.ACCESS_TOKEN}"


def test_an_api_key_reaches_the_service_as_the_jwt_auth_minted(pacts, through_gateway):
    pact = pacts.new("gateway", "auth")
    user_checked(pact, "a user with an API key", examples.API_KEY, "Bearer ${api_key}", r"^Bearer oak_\w+$")

    response = through_gateway(pact, {"Authorization": f"Bearer {examples.API_KEY}"})

    assert response.status_code == 200
    seen = response.json()["headers"]
    assert seen["X-User-Id"] == examples.USER_ID
    # The phantom token: the service sees the short JWT, never the API key.
    assert seen["Authorization"] == f"Bearer {examples.ACCESS_TOKEN}"


@pytest.mark.parametrize(
    ("description", "headers"),
    [
        ("a token auth does not accept", {"Authorization": "Bearer not-a-token-auth-issued"}),
        ("a request without credentials", {}),
    ],
)
def test_a_refused_check_is_a_401_with_the_challenge_from_auth(pacts, through_gateway, description, headers):
    pact = pacts.new("gateway", "auth")
    interaction = pact.upon_receiving(f"the gateway's check of {description}").with_request("GET", VERIFY)
    for name, value in headers.items():
        interaction.with_header(name, value)
    interaction.will_respond_with(401).with_header(
        "WWW-Authenticate", match.regex('Bearer realm="oasis"', regex=r"^Bearer( .+)?$")
    )

    response = through_gateway(pact, headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="oasis"'
    assert response.json()["error"]["code"] == "not_authenticated"
