"""Every service → auth: service tokens (oasis_common.client) and the JWKS (oasis_common.authentication).

The builder is the one service that calls others, so the one that asks for service
tokens; every service that checks users' tokens (projects, payments, the builder)
fetches auth's public keys with the same platform code.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import override_settings
from pact import match

from oasis_common import authentication, client
from oasis_common.errors import PeerUnavailable
from tests.contract import examples, matchers

JSON = "application/json"


def oasis(**values) -> override_settings:
    """Settings changes also empty the platform's token cache and key store (oasis_common.conf)."""
    return override_settings(OASIS={**settings.OASIS, **values})


def service_token_request(audience: str, secret: str) -> dict:
    return {"client_id": "builder", "client_secret": secret, "audience": audience}


@pytest.mark.parametrize("audience", ["projects", "payments"])
def test_the_builder_gets_a_service_token_for_its_peer(pacts, audience):
    pact = pacts.new("builder", "auth")
    (
        pact.upon_receiving(f"a service token request for {audience}")
        .given("a registered service client", {"client_id": "builder"})
        .with_request("POST", "/internal/v1/service-token")
        .with_body(service_token_request(audience, examples.BUILDER_CLIENT_SECRET), content_type=JSON)
        .will_respond_with(200)
        .with_body(
            {"access": matchers.jwt(examples.SERVICE_TOKEN), "expires_in": match.int(300)}, content_type=JSON
        )
    )
    with pacts.serving(pact) as url, oasis(AUTH_URL=url):
        token = client.service_token(audience)

    assert token == examples.SERVICE_TOKEN


def test_a_wrong_client_secret_gets_no_service_token(pacts):
    pact = pacts.new("builder", "auth")
    (
        pact.upon_receiving("a service token request with a wrong client secret")
        .given("a registered service client", {"client_id": "builder"})
        .with_request("POST", "/internal/v1/service-token")
        .with_body(service_token_request("projects", "not-the-client-secret"), content_type=JSON)
        .will_respond_with(401)
        .with_body(matchers.error("invalid_client"), content_type=JSON)
    )
    with (
        pacts.serving(pact) as url,
        oasis(AUTH_URL=url, SERVICE_CLIENT_SECRET="not-the-client-secret"),
        pytest.raises(PeerUnavailable),
    ):
        client.service_token("projects")


@pytest.mark.parametrize("consumer", ["builder", "projects", "payments"])
def test_a_service_fetches_auths_public_keys(pacts, consumer):
    path = urlsplit(settings.OASIS["JWKS_URL"]).path
    key = {
        "kty": "RSA",
        "kid": match.str(examples.JWK["kid"]),
        "use": "sig",
        "alg": "RS256",
        "n": match.regex(examples.JWK["n"], regex=r"^[A-Za-z0-9_-]+$"),
        "e": match.regex(examples.JWK["e"], regex=r"^[A-Za-z0-9_-]+$"),
    }
    pact = pacts.new(consumer, "auth")
    (
        pact.upon_receiving("a request for the public keys that verify tokens")
        .with_request("GET", path)
        .will_respond_with(200)
        .with_body({"keys": match.each_like(key)}, content_type=JSON)
    )
    with pacts.serving(pact) as url, oasis(JWKS_URL=f"{url}{path}", JWKS_LOADER="", JWKS_FILE=""):
        verifying_key = authentication.key_store().get(examples.JWK["kid"])

    assert verifying_key is not None
    assert verifying_key.key_id == examples.JWK["kid"]
