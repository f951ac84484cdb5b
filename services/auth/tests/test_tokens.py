"""POST /api/v1/auth/token/: signing in, and what the issued tokens contain."""

import time
import uuid

import jwt
import pytest
from django.conf import settings

from tests.helpers import ACCESS_CLAIMS, PASSWORD, claims_of, error_of, me, sign_in


def jwks(api) -> dict:
    return {key["kid"]: key for key in api.get("/api/v1/auth/.well-known/jwks.json").json()["keys"]}


def test_sign_in_returns_a_token_pair(api, user):
    response = sign_in(api)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300


def test_the_access_token_has_exactly_the_agreed_claims(api, user):
    before = time.time()
    access = sign_in(api).json()["access"]
    after = time.time()

    claims = claims_of(access)
    assert set(claims) == ACCESS_CLAIMS
    assert claims["iss"] == settings.OASIS["JWT_ISSUER"] == "imagi-oasis"
    assert claims["aud"] == settings.OASIS["JWT_AUDIENCE"] == "oasis-api"
    assert claims["sub"] == str(user.pk)
    assert uuid.UUID(claims["sub"]) == user.pk
    assert claims["token_type"] == "access"
    assert isinstance(claims["jti"], str)
    assert claims["jti"]
    assert int(before) <= claims["iat"] == claims["nbf"] <= after
    assert claims["exp"] - claims["iat"] == 300


def test_the_access_token_is_rs256_with_a_kid_listed_in_the_jwks(api, user):
    access = sign_in(api).json()["access"]

    header = jwt.get_unverified_header(access)
    assert header["alg"] == "RS256"
    keys = jwks(api)
    assert header["kid"] in keys
    claims = jwt.decode(
        access,
        jwt.PyJWK(keys[header["kid"]]).key,
        algorithms=["RS256"],
        audience="oasis-api",
        issuer="imagi-oasis",
    )
    assert claims["sub"] == str(user.pk)


def test_the_refresh_token_is_signed_the_same_way_and_typed_refresh(api, user):
    pair = sign_in(api).json()

    header = jwt.get_unverified_header(pair["refresh"])
    claims = claims_of(pair["refresh"])
    assert header["alg"] == "RS256"
    assert header["kid"] in jwks(api)
    assert claims["token_type"] == "refresh"
    assert claims["sub"] == str(user.pk)
    assert claims["jti"] != claims_of(pair["access"])["jti"]
    assert claims["exp"] - claims["iat"] > 24 * 3600


def test_every_sign_in_gets_fresh_token_ids(api, user):
    first, second = sign_in(api).json(), sign_in(api).json()

    jtis = {claims_of(pair[kind])["jti"] for pair in (first, second) for kind in ("access", "refresh")}
    assert len(jtis) == 4


def test_the_access_token_opens_me(api, user):
    access = sign_in(api).json()["access"]

    response = me(api, access)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.pk)


def test_sign_in_ignores_the_case_and_spaces_of_the_email(api, user):
    assert sign_in(api, " ADA@Example.COM ").status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(api, user):
    # The same request id makes the bodies comparable byte for byte.
    wrong_password = sign_in(api, password="not the password", HTTP_X_REQUEST_ID="same-request-id")
    unknown_email = sign_in(api, "nobody@example.com", HTTP_X_REQUEST_ID="same-request-id")

    error_of(wrong_password, 401, "invalid_credentials")
    assert unknown_email.status_code == wrong_password.status_code
    assert unknown_email.content == wrong_password.content


def test_an_inactive_user_cannot_sign_in(api, make_user):
    make_user(is_active=False)

    response = sign_in(api, HTTP_X_REQUEST_ID="same-request-id")

    error_of(response, 401, "invalid_credentials")
    unknown = sign_in(api, "nobody@example.com", HTTP_X_REQUEST_ID="same-request-id")
    assert response.content == unknown.content


def test_a_user_without_a_usable_password_cannot_sign_in(api, make_user):
    make_user(password=None)

    error_of(sign_in(api, password=""), 400, "validation_error")
    error_of(sign_in(api, password="!"), 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email", "password"}),
        ({"email": "ada@example.com"}, {"password"}),
        ({"password": PASSWORD}, {"email"}),
        ({"email": "not-an-email", "password": PASSWORD}, {"email"}),
        ({"email": 7, "password": PASSWORD}, {"email"}),
        ({"email": "ada@example.com", "password": ["x"]}, {"password"}),
    ],
    ids=["empty", "no-password", "no-email", "bad-email", "number-email", "list-password"],
)
def test_sign_in_with_invalid_fields_is_a_validation_error(api, user, body, fields):
    response = api.post("/api/v1/auth/token/", body, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == fields


def test_sign_in_with_get_is_not_allowed(api, db):
    error_of(api.get("/api/v1/auth/token/"), 405, "method_not_allowed")
