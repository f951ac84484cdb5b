"""Tokens third parties can verify safely: discovery, the JWKS, and a refresh token's own audience."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings

from oasis_common.authentication import ACCESS, InvalidToken, decode_token
from tests.helpers import claims_of, error_of, me, refresh, verify
from tokens import keys
from tokens.pairs import RefreshToken

DISCOVERY = "/api/v1/auth/.well-known/openid-configuration"
API_KEYS = "/api/v1/auth/api-keys/"


def third_party_verify(api, token: str) -> dict:
    """Verify `token` as a service outside Imagi Oasis would: keys from the discovery document's
    JWKS picked by `kid`, RS256 only, our issuer and the API's audience, expiry required."""
    discovery = api.get(DISCOVERY).json()
    jwks = jwt.PyJWKSet.from_dict(api.get(discovery["jwks_uri"]).json())
    key = next(key for key in jwks.keys if key.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(
        token,
        key.key,
        algorithms=discovery["id_token_signing_alg_values_supported"],
        issuer=discovery["issuer"],
        audience=settings.OASIS["JWT_AUDIENCE"],
        options={"require": ["iss", "aud", "sub", "exp", "iat", "nbf"]},
    )


def legacy_refresh_token(user) -> str:
    """A refresh token as auth issued them before they had an audience of their own."""
    claims = claims_of(str(RefreshToken.for_user(user)))
    return keys.sign({**claims, "aud": settings.OASIS["JWT_AUDIENCE"], "iat": claims["iat"] + 0.123})


# ---- the discovery document ----


def test_the_discovery_document_says_only_what_is_true(api, db):
    response = api.get(DISCOVERY)

    assert response.status_code == 200
    assert response.json() == {
        "issuer": "imagi-oasis",
        "jwks_uri": "http://testserver/api/v1/auth/.well-known/jwks.json",
        "token_endpoint": "http://testserver/api/v1/auth/token/",
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "claims_supported": [
            "iss", "aud", "sub", "jti", "iat", "nbf", "exp", "token_type", "fam", "scope", "api_key_id"
        ],
    }  # fmt: skip
    assert response["Cache-Control"] == "public, max-age=300"


def test_the_discovery_document_names_the_address_the_gateway_was_called_at(api, db, settings):
    settings.OASIS = {**settings.OASIS, "TRUSTED_PROXIES": ["127.0.0.1/32"]}

    body = api.get(
        DISCOVERY,
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_HOST="oasis.example",
        HTTP_X_FORWARDED_PROTO="https",
    ).json()

    assert body["jwks_uri"] == "https://oasis.example/api/v1/auth/.well-known/jwks.json"


def test_the_discovery_document_needs_no_token(api, db):
    assert api.get(DISCOVERY, HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 200


# ---- what a third party accepts ----


def test_a_third_party_accepts_an_access_token(api, user, tokens):
    claims = third_party_verify(api, tokens["access"])

    assert (claims["sub"], claims["token_type"]) == (str(user.pk), "access")


def test_a_third_party_refuses_a_refresh_token_by_its_audience_alone(api, tokens):
    with pytest.raises(jwt.InvalidAudienceError):
        third_party_verify(api, tokens["refresh"])


def test_a_refresh_token_carries_the_refresh_audience_and_type(tokens):
    claims = claims_of(tokens["refresh"])

    assert claims["aud"] == settings.OASIS["JWT_REFRESH_AUDIENCE"] == "oasis-auth-refresh"
    assert claims["token_type"] == "refresh"


def test_a_rotated_pair_keeps_the_audiences_apart(api, tokens):
    pair = refresh(api, tokens["refresh"]).json()

    assert claims_of(pair["access"])["aud"] == "oasis-api"
    assert claims_of(pair["refresh"])["aud"] == "oasis-auth-refresh"
    third_party_verify(api, pair["access"])


def test_an_api_key_token_passes_a_third_party(api, authed):
    key = authed.post(API_KEYS, {"name": "script"}, format="json").json()["key"]

    token = verify(api, key)["X-Oasis-Token"]

    assert third_party_verify(api, token)["token_type"] == "access"


# ---- whole seconds ----


def issued_tokens(api, user, tokens, authed) -> dict[str, str]:
    rotated = refresh(api, tokens["refresh"]).json()
    key = authed.post(API_KEYS, {"name": "script"}, format="json").json()["key"]
    return {
        "access": tokens["access"],
        "refresh": tokens["refresh"],
        "rotated access": rotated["access"],
        "rotated refresh": rotated["refresh"],
        "api key": verify(api, key)["X-Oasis-Token"],
    }


def test_every_token_carries_whole_seconds(api, user, tokens, authed):
    for kind, token in issued_tokens(api, user, tokens, authed).items():
        claims = claims_of(token)
        times = {name: claims[name] for name in ("iat", "nbf", "exp")}
        assert all(type(value) is int for value in times.values()), (kind, times)
        assert claims["nbf"] == claims["iat"] < claims["exp"], (kind, times)


def test_an_access_token_made_from_an_older_refresh_token_is_valid_from_its_own_issue(user):
    refresh = RefreshToken.for_user(user)
    refresh.current_time -= timedelta(seconds=5)
    refresh.set_iat()

    access = refresh.access_token

    assert access["nbf"] == access["iat"] >= refresh["iat"] + 5


# ---- the refresh endpoint ----


@pytest.mark.parametrize(
    ("token_type", "audience"),
    [
        ("access", "oasis-api"),
        ("access", "oasis-auth-refresh"),
        ("refresh", "payments"),
        ("refresh", "someone-else"),
        ("service", "oasis-auth-refresh"),
    ],
    ids=[
        "access-token",
        "access-typed-for-refresh",
        "refresh-for-a-service",
        "refresh-for-others",
        "service",
    ],
)
def test_the_refresh_endpoint_takes_only_refresh_tokens_for_its_audience(api, user, token_type, audience):
    claims = claims_of(str(RefreshToken.for_user(user)))
    token = keys.sign({**claims, "token_type": token_type, "aud": audience})

    error_of(refresh(api, token), 401, "invalid_token")


def test_the_refresh_endpoint_refuses_an_issued_access_token(api, tokens):
    error_of(refresh(api, tokens["access"]), 401, "invalid_token")


def test_a_refresh_token_from_before_the_refresh_audience_still_rotates_into_it(api, user):
    # Refusing them would sign everyone out at the release; they expire within the refresh lifetime.
    response = refresh(api, legacy_refresh_token(user))

    assert response.status_code == 200, response.content
    assert claims_of(response.json()["refresh"])["aud"] == "oasis-auth-refresh"


@pytest.mark.parametrize(
    "make_token",
    [lambda user, tokens: tokens["refresh"], lambda user, tokens: legacy_refresh_token(user)],
    ids=["refresh", "refresh-from-before"],
)
def test_no_refresh_token_passes_for_an_access_token(api, user, tokens, make_token):
    token = make_token(user, tokens)

    error_of(verify(api, token), 401, "not_authenticated")
    error_of(me(api, token), 401)
    with pytest.raises(InvalidToken):
        decode_token(token, audience=settings.OASIS["JWT_AUDIENCE"], token_type=ACCESS)
