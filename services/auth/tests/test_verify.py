"""GET /internal/v1/verify: the gateway's auth_request, answered 200 with the caller or 401."""

import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from accounts.models import User
from oasis_common.testing import clear_cache, mint
from tests.conftest import client_for
from tests.helpers import (
    NEW_PASSWORD,
    PASSWORD,
    access_claims,
    claims_of,
    error_of,
    hs256_token,
    refresh,
    sign_in,
    verify,
)
from tokens import keys


def signed(user, **overrides) -> str:
    """A token signed with auth's real signing key, any claim overridable."""
    return keys.sign(access_claims(user.pk, **overrides))


def signing_kid() -> str:
    return keys.keyring().signing_kid


def public_pem() -> bytes:
    return (
        keys.keyring()
        .signing_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def test_a_valid_access_token_is_passed_on(api, user, tokens):
    response = verify(api, tokens["access"])

    assert response.status_code == 200
    assert response["X-User-Id"] == str(user.pk)
    assert response["X-Oasis-Token"] == tokens["access"]
    assert response["Cache-Control"] == "private, max-age=0"


def test_a_token_signed_with_our_key_and_every_claim_right_is_accepted(api, user):
    # The baseline the refusals below differ from by one thing each.
    assert verify(api, signed(user)).status_code == 200


def test_the_bearer_scheme_is_case_insensitive(api, user, tokens):
    response = api.get("/internal/v1/verify", HTTP_AUTHORIZATION=f"bearer {tokens['access']}")

    assert response.status_code == 200


REFUSED = {
    "forged-signature": lambda user: mint(sub=str(user.pk), headers={"kid": signing_kid()}),
    "alg-none": lambda user: jwt.encode(
        access_claims(user.pk), key=None, algorithm="none", headers={"kid": signing_kid()}
    ),
    "hs256-with-public-key": lambda user: hs256_token(access_claims(user.pk), public_pem(), signing_kid()),
    "expired": lambda user: signed(user, iat=time.time() - 400, exp=int(time.time()) - 60),
    "not-yet-issued": lambda user: signed(user, iat=time.time() + 600),
    "wrong-iss": lambda user: signed(user, iss="someone-else"),
    "wrong-aud": lambda user: signed(user, aud="projects"),
    "no-exp": lambda user: keys.sign({k: v for k, v in access_claims(user.pk).items() if k != "exp"}),
    "no-jti": lambda user: keys.sign({k: v for k, v in access_claims(user.pk).items() if k != "jti"}),
    "unknown-kid": lambda user: mint(sub=str(user.pk)),
    "kid-missing": lambda user: jwt.encode(
        access_claims(user.pk), keys.keyring().signing_key, algorithm="RS256"
    ),
    "service-token": lambda user: signed(user, sub="service:projects", token_type="service"),
    "service-token-for-auth": lambda user: signed(
        user, sub="service:projects", token_type="service", aud="auth"
    ),
    "refresh-token": lambda user: signed(user, token_type="refresh"),
    "no-token-type": lambda user: keys.sign(
        {k: v for k, v in access_claims(user.pk).items() if k != "token_type"}
    ),
    "subject-not-a-user-id": lambda user: signed(user, sub="service:projects"),
    "subject-of-no-user": lambda user: signed(user, sub=str(uuid.uuid4())),
    "garbage": lambda user: "garbage",
    "three-garbage-parts": lambda user: "a.b.c",
    "truncated": lambda user: signed(user)[:-10],
}


@pytest.mark.parametrize("make_token", list(REFUSED.values()), ids=list(REFUSED))
def test_a_bad_token_is_refused(api, user, make_token):
    response = verify(api, make_token(user))

    error_of(response, 401, "not_authenticated")
    assert "X-User-Id" not in response
    assert "X-Oasis-Token" not in response
    assert response["WWW-Authenticate"] == 'Bearer realm="oasis"'


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic YWRhOnB3", "Token {access}", "Bearer {access} extra", "{access}"],
    ids=[
        "missing",
        "empty",
        "scheme-only",
        "scheme-and-space",
        "basic",
        "other-scheme",
        "two-parts",
        "no-scheme",
    ],
)
def test_a_bad_authorization_header_is_refused(api, tokens, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization.format(**tokens)}

    error_of(api.get("/internal/v1/verify", **headers), 401, "not_authenticated")


def test_a_refresh_token_from_sign_in_is_refused(api, tokens):
    error_of(verify(api, tokens["refresh"]), 401, "not_authenticated")


def test_a_revoked_jti_is_refused(api, authed, tokens):
    authed.post("/api/v1/auth/logout/", {}, format="json")

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_a_deactivated_user_is_refused(api, user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_a_deleted_user_is_refused(api, user, tokens):
    user.delete()

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_identity_headers_sent_by_the_client_are_ignored(api, user, other_user, tokens):
    response = verify(api, tokens["access"], HTTP_X_USER_ID=str(other_user.pk))

    assert response["X-User-Id"] == str(user.pk)
    error_of(verify(api, None, HTTP_X_USER_ID=str(other_user.pk)), 401)


def test_verify_only_answers_get(api, tokens):
    response = api.post("/internal/v1/verify", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert response.status_code == 405
    assert "X-User-Id" not in response


def test_the_hot_path_makes_at_most_one_query_with_a_warm_cache(
    api, user, tokens, django_assert_max_num_queries, django_assert_num_queries
):
    assert verify(api, tokens["access"]).status_code == 200  # warms the user's cutoff

    with django_assert_max_num_queries(1):
        assert verify(api, tokens["access"]).status_code == 200
    # The revocation lookup is one cache round trip: a query with the database cache, none with Redis.
    with django_assert_num_queries(0 if isinstance(caches["default"], RedisCache) else 1):
        assert verify(api, tokens["access"]).status_code == 200


def test_the_passed_token_is_the_one_verified(api, user, tokens):
    response = verify(api, tokens["access"])

    assert claims_of(response["X-Oasis-Token"])["sub"] == str(user.pk)


def test_a_fresh_token_costs_one_query_and_then_none(api, quick_cache, tokens, django_assert_num_queries):
    # Its jti, its family and its user's cutoff are loaded together, "not revoked" included.
    with django_assert_num_queries(1):
        assert verify(api, tokens["access"]).status_code == 200
    with django_assert_num_queries(0):
        assert verify(api, tokens["access"]).status_code == 200


def test_a_token_of_a_warm_user_costs_one_query_for_its_new_jti(
    api, quick_cache, user, tokens, django_assert_num_queries
):
    assert verify(api, tokens["access"]).status_code == 200
    fresh = sign_in(api).json()["access"]

    with django_assert_num_queries(1):
        assert verify(api, fresh).status_code == 200


# Redis down: the database answers every question the cache would have, the same way.


@pytest.fixture
def down(redis_down, tokens):
    """Signed in while Redis was up; then it goes away."""
    redis_down()
    return tokens


def test_with_redis_down_a_valid_token_is_passed_on(api, user, down, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = verify(api, down["access"])

    assert response.status_code == 200
    assert response["X-User-Id"] == str(user.pk)


def test_with_redis_down_a_token_signed_out_meanwhile_is_refused(api, down):
    assert client_for(down["access"]).post("/api/v1/auth/logout/", {}, format="json").status_code == 204

    error_of(verify(api, down["access"]), 401, "not_authenticated")


def test_with_redis_down_a_token_signed_out_before_is_refused(api, redis_down, tokens):
    assert client_for(tokens["access"]).post("/api/v1/auth/logout/", {}, format="json").status_code == 204
    redis_down()

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_with_redis_down_a_revoked_family_is_refused(api, down):
    rotated = refresh(api, down["refresh"]).json()
    assert verify(api, rotated["access"]).status_code == 200

    error_of(refresh(api, down["refresh"]), 401, "token_reused")  # a reuse: the family is revoked

    error_of(verify(api, rotated["access"]), 401, "not_authenticated")
    error_of(verify(api, down["access"]), 401, "not_authenticated")


def test_with_redis_down_tokens_from_before_a_password_change_are_refused(api, down):
    response = client_for(down["access"]).post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code in (200, 204), response.content

    error_of(verify(api, down["access"]), 401, "not_authenticated")
    assert verify(api, sign_in(api, password=NEW_PASSWORD).json()["access"]).status_code == 200


def test_with_redis_down_a_deactivated_user_is_refused(api, user, down):
    assert verify(api, down["access"]).status_code == 200  # would be cached, were there a cache

    User.objects.filter(pk=user.pk).update(is_active=False)

    error_of(verify(api, down["access"]), 401, "not_authenticated")


def test_with_redis_down_a_deleted_user_is_refused(api, user, down):
    user.delete()

    error_of(verify(api, down["access"]), 401, "not_authenticated")


def test_with_redis_down_an_api_key_is_exchanged_and_a_deleted_one_refused(api, authed, redis_down):
    created = authed.post("/api/v1/auth/api-keys/", {"name": "script"}, format="json").json()
    assert verify(api, created["key"]).status_code == 200  # its owner is cached
    redis_down()

    assert verify(api, created["key"]).status_code == 200
    assert authed.delete(f"/api/v1/auth/api-keys/{created['id']}/").status_code == 204
    error_of(verify(api, created["key"]), 401, "not_authenticated")


def test_a_redis_restarted_empty_still_refuses_what_was_revoked(api, user, tokens):
    rotated = refresh(api, tokens["refresh"]).json()
    elsewhere = sign_in(api).json()
    client_for(elsewhere["access"]).post("/api/v1/auth/logout/", {}, format="json")
    refresh(api, tokens["refresh"])  # a reuse: the family is revoked
    clear_cache()

    error_of(verify(api, elsewhere["access"]), 401, "not_authenticated")
    error_of(verify(api, rotated["access"]), 401, "not_authenticated")
    assert verify(api, sign_in(api).json()["access"]).status_code == 200
