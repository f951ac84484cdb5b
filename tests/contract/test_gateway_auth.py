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


PROJECTS = "/api/v1/projects/"


@pytest.fixture
def through_gateway(pacts, tmp_path):
    """Serve `pact` as auth and send one request (GET unless told) for the projects list through nginx."""

    def send(pact, headers: dict, method: str = "GET") -> requests.Response:
        with (
            pacts.serving(pact) as auth,
            echo_service() as projects,
            gateway(tmp_path, auth=auth.removeprefix("http://"), projects=projects) as url,
        ):
            return requests.request(method, f"{url}{PROJECTS}", headers=headers, timeout=10)

    return send


def check_of(
    pact, description: str, state: str, credential: str, expression: str, pattern: str, method="GET"
):
    """The gateway's verify request: the caller's credential, and the request it is about to pass on."""
    return (
        pact.upon_receiving(f"the gateway's check of {description}")
        .given(state)
        .with_request("GET", VERIFY)
        .with_header("Authorization", matchers.from_state(f"Bearer {credential}", expression, pattern))
        .with_header("X-Original-Method", method)
        .with_header("X-Original-URI", PROJECTS)
    )


def user_checked(pact, state: str, credential: str, expression: str, pattern: str):
    (
        check_of(pact, state, state, credential, expression, pattern)
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


def test_an_api_key_beyond_its_scope_is_a_403_insufficient_scope(pacts, through_gateway):
    pact = pacts.new("gateway", "auth")
    state = "a user with a read-only API key"
    (
        check_of(
            pact,
            f"a POST by {state}",
            state,
            examples.API_KEY,
            "Bearer ${api_key}",
            r"^Bearer oak_\w+$",
            "POST",
        )
        .will_respond_with(403)
        .with_header("X-Oasis-Error", "insufficient_scope")
    )

    response = through_gateway(pact, {"Authorization": f"Bearer {examples.API_KEY}"}, method="POST")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_scope"
    assert error["message"] == "This API key's scope does not allow this request."
    assert "X-User-Id" not in response.headers


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
