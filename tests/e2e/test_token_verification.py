"""Verifying our tokens as a third party would, from what the gateway publishes: discovery and the JWKS."""

import jwt
import pytest

from tests.e2e.conftest import bearer

DISCOVERY = "/api/v1/auth/.well-known/openid-configuration"
API_AUDIENCE = "oasis-api"


@pytest.fixture
def discovery(gateway) -> dict:
    response = gateway.get(DISCOVERY)
    assert response.status_code == 200, response.text
    return response.json()


def third_party_verify(gateway, discovery: dict, token: str) -> dict:
    """PyJWT configured like a service outside Imagi Oasis: the published keys by `kid`, the
    published algorithms, our issuer and the API's audience."""
    keys = jwt.PyJWKSet.from_dict(gateway.get(discovery["jwks_uri"]).json())
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(key for key in keys.keys if key.key_id == kid)
    return jwt.decode(
        token,
        key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        issuer=discovery["issuer"],
        audience=API_AUDIENCE,
        options={"require": ["iss", "aud", "sub", "exp", "iat", "nbf"]},
    )


def test_the_discovery_document_is_public_and_points_at_the_gateway(gateway, discovery):
    assert discovery["issuer"] == "imagi-oasis"
    assert discovery["jwks_uri"] == f"{gateway.base_url}/api/v1/auth/.well-known/jwks.json"
    assert discovery["token_endpoint"] == f"{gateway.base_url}/api/v1/auth/token/"
    assert discovery["id_token_signing_alg_values_supported"] == ["RS256"]


def test_a_third_party_accepts_an_access_token(gateway, discovery, account):
    claims = third_party_verify(gateway, discovery, account["access"])

    assert (claims["sub"], claims["token_type"]) == (account["id"], "access")


def test_a_third_party_refuses_a_refresh_token(gateway, discovery, account):
    with pytest.raises(jwt.InvalidAudienceError):
        third_party_verify(gateway, discovery, account["refresh"])


def test_the_gateway_refuses_a_refresh_token_as_a_credential(gateway, account):
    response = gateway.get("/api/v1/auth/me/", headers=bearer(account["refresh"]))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_refresh_endpoint_refuses_an_access_token_but_rotates_a_refresh_token(
    gateway, discovery, account
):
    refused = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["access"]})
    rotated = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})

    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    assert rotated.status_code == 200, rotated.text
    third_party_verify(gateway, discovery, rotated.json()["access"])


def test_issued_tokens_carry_whole_seconds(account):
    for kind in ("access", "refresh"):
        claims = jwt.decode(account[kind], options={"verify_signature": False})
        assert all(type(claims[name]) is int for name in ("iat", "nbf", "exp")), (kind, claims)
