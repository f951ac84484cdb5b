"""POST /api/v1/auth/token/refresh/: rotation, reuse detection, and what a refresh token must be."""

from datetime import timedelta

import jwt
import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from oasis_common.testing import mint
from tests.helpers import ACCESS_CLAIMS, NEW_PASSWORD, PASSWORD, claims_of, error_of, me, refresh, verify
from tokens import keys
from tokens.pairs import RefreshToken


def test_refresh_returns_a_new_pair(api, user, tokens):
    response = refresh(api, tokens["refresh"])

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh", "token_type", "expires_in"}
    assert pair["access"] != tokens["access"]
    assert pair["refresh"] != tokens["refresh"]
    assert claims_of(pair["refresh"])["jti"] != claims_of(tokens["refresh"])["jti"]
    assert me(api, pair["access"]).status_code == 200


def test_the_refreshed_access_token_has_the_agreed_claims(api, user, tokens):
    access = refresh(api, tokens["refresh"]).json()["access"]

    claims = claims_of(access)
    assert set(claims) == ACCESS_CLAIMS
    assert claims["sub"] == str(user.pk)
    assert claims["token_type"] == "access"
    assert 299 < claims["exp"] - claims["iat"] <= 300
    assert jwt.get_unverified_header(access)["kid"] == keys.keyring().signing_kid


def test_the_used_refresh_token_is_refused_afterwards(api, tokens):
    assert refresh(api, tokens["refresh"]).status_code == 200

    error_of(refresh(api, tokens["refresh"]), 401, "token_reused")


def test_the_used_refresh_token_is_blacklisted(api, tokens):
    refresh(api, tokens["refresh"])

    assert BlacklistedToken.objects.filter(token__jti=claims_of(tokens["refresh"])["jti"]).exists()


def test_a_chain_of_refreshes_keeps_working(api, tokens):
    current = tokens["refresh"]
    for _ in range(3):
        response = refresh(api, current)
        assert response.status_code == 200, response.content
        current = response.json()["refresh"]


def test_reusing_an_old_token_of_a_chain_is_refused(api, tokens):
    first = tokens["refresh"]
    second = refresh(api, first).json()["refresh"]
    refresh(api, second)

    error_of(refresh(api, first), 401, "token_reused")
    error_of(refresh(api, second), 401, "token_reused")


def test_an_access_token_is_not_a_refresh_token(api, tokens):
    error_of(refresh(api, tokens["access"]), 401, "invalid_token")


def test_tokens_issued_before_a_password_change_cannot_refresh(api, authed, tokens):
    changed = authed.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert changed.status_code == 200, changed.content

    error_of(refresh(api, tokens["refresh"]), 401, "invalid_token")
    assert refresh(api, changed.json()["refresh"]).status_code == 200


def test_a_deactivated_user_cannot_refresh(api, user, tokens):
    user.is_active = False
    user.save()

    error_of(refresh(api, tokens["refresh"]), 401, "invalid_token")


def test_a_deleted_user_cannot_refresh(api, user, tokens):
    user.delete()

    error_of(refresh(api, tokens["refresh"]), 401)


def test_an_expired_refresh_token_is_refused(api, user):
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=timedelta(seconds=-1))

    error_of(refresh(api, str(token)), 401, "invalid_token")


def _signed_refresh(user, **overrides) -> str:
    """A refresh token signed with our key that was never recorded as outstanding."""
    token = RefreshToken()
    token["sub"] = str(user.pk)
    return keys.sign({**claims_of(str(token)), **overrides})


@pytest.mark.parametrize(
    "make_token",
    [
        lambda user: "garbage",
        lambda user: "a.b.c",
        lambda user: mint(sub=str(user.pk), token_type="refresh"),
        lambda user: mint(
            sub=str(user.pk), token_type="refresh", headers={"kid": keys.keyring().signing_kid}
        ),
        lambda user: _signed_refresh(user, token_type="service"),
        lambda user: _signed_refresh(user, iss="someone-else"),
        lambda user: _signed_refresh(user, aud="another-api"),
    ],
    ids=[
        "garbage",
        "not-base64",
        "unknown-kid",
        "forged-signature",
        "service-type",
        "wrong-iss",
        "wrong-aud",
    ],
)
def test_an_invalid_refresh_token_is_refused(api, user, make_token):
    error_of(refresh(api, make_token(user)), 401, "invalid_token")


def test_a_refresh_token_signed_by_us_but_never_recorded_still_rotates_once(api, user):
    # Tokens issued before the blacklist app existed have no outstanding row yet.
    token = _signed_refresh(user)
    assert not OutstandingToken.objects.filter(jti=claims_of(token)["jti"]).exists()

    assert refresh(api, token).status_code == 200
    error_of(refresh(api, token), 401, "token_reused")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 400),
        ({"refresh": ""}, 400),
        ({"refresh": 12}, 401),
        ({"refresh": ["x"]}, 400),
        ({"refresh": None}, 400),
    ],
    ids=["missing", "blank", "number", "list", "null"],
)
def test_a_malformed_refresh_request_is_refused(api, db, body, status):
    response = api.post("/api/v1/auth/token/refresh/", body, format="json")

    error_of(response, status)


def test_refresh_needs_no_access_token(api, tokens):
    response = refresh(api, tokens["refresh"], HTTP_AUTHORIZATION="Bearer expired-or-garbage")

    assert response.status_code == 200


def test_the_refreshed_access_token_passes_verify(api, user, tokens):
    access = refresh(api, tokens["refresh"]).json()["access"]

    response = verify(api, access)

    assert response.status_code == 200
    assert response["X-User-Id"] == str(user.pk)
