"""Personal API keys: create (secret shown once), list, delete, and their use at the gateway's verify."""

import hashlib
import uuid

import jwt
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from apikeys import keys
from apikeys.models import ApiKey
from oasis_common.authentication import ACCESS, decode_token
from oasis_common.testing import last_character_changed
from tests.helpers import claims_of, error_of, me, verify
from tokens import revocation

URL = "/api/v1/auth/api-keys/"


def create(client, name="deploy script"):
    response = client.post(URL, {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_creating_a_key_returns_its_secret_once(authed):
    response = authed.post(URL, {"name": "deploy script"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "prefix", "scope", "created_at", "last_used_at", "key"}
    assert body["name"] == "deploy script"
    assert body["scope"] == "full"
    assert body["key"].startswith("oak_")
    assert len(body["key"]) == 52
    assert body["key"].startswith(body["prefix"])
    assert body["last_used_at"] is None


def test_the_list_shows_only_a_prefix_never_the_secret(authed):
    created = create(authed)

    response = authed.get(URL)

    assert response.status_code == 200
    [listed] = response.json()
    assert set(listed) == {"id", "name", "prefix", "scope", "created_at", "last_used_at"}
    assert listed["id"] == created["id"]
    assert listed["prefix"] == created["prefix"]
    assert len(listed["prefix"]) == len("oak_") + 8
    assert created["key"][12:] not in response.content.decode()


def test_the_key_is_stored_only_as_a_hash(authed):
    created = create(authed)

    row = ApiKey.objects.get(pk=created["id"])
    assert row.secret_hash == hashlib.sha256(created["key"].encode()).hexdigest()
    for value in ApiKey.objects.filter(pk=created["id"]).values().get().values():
        assert created["key"] not in str(value)
        assert created["key"][12:] not in str(value)


def test_every_key_is_different(authed):
    secrets = {create(authed, f"key {index}")["key"] for index in range(5)}

    assert len(secrets) == 5


def test_the_list_is_newest_first(authed):
    names = [create(authed, name)["name"] for name in ("first", "second", "third")]

    assert [key["name"] for key in authed.get(URL).json()] == names[::-1]


def test_the_list_shows_only_the_callers_keys(authed, other_authed):
    create(authed, "mine")
    create(other_authed, "theirs")

    assert [key["name"] for key in authed.get(URL).json()] == ["mine"]
    assert [key["name"] for key in other_authed.get(URL).json()] == ["theirs"]


def test_the_list_costs_the_same_queries_for_many_keys(authed):
    create(authed, "warm-up")
    authed.get(URL)
    with CaptureQueriesContext(connection) as few:
        authed.get(URL)
    for index in range(5):
        create(authed, f"key {index}")
    with CaptureQueriesContext(connection) as many:
        response = authed.get(URL)

    assert len(response.json()) == 6
    assert len(many) == len(few) <= 2


def test_deleting_a_key_removes_it(authed):
    created = create(authed)

    response = authed.delete(f"{URL}{created['id']}/")

    assert response.status_code == 204
    assert authed.get(URL).json() == []
    assert not ApiKey.objects.filter(pk=created["id"]).exists()


def test_another_users_key_cannot_be_deleted(authed, other_authed):
    theirs = create(other_authed)

    error_of(authed.delete(f"{URL}{theirs['id']}/"), 404, "not_found")
    assert ApiKey.objects.filter(pk=theirs["id"]).exists()


def test_deleting_a_key_that_does_not_exist_is_not_found(authed):
    error_of(authed.delete(f"{URL}{uuid.uuid4()}/"), 404, "not_found")


def test_a_malformed_key_id_is_not_found(authed):
    error_of(authed.delete(f"{URL}not-a-uuid/"), 404, "not_found")


def test_the_per_user_limit_is_enforced(authed, other_authed, settings):
    settings.OASIS = {**settings.OASIS, "API_KEYS_PER_USER": 2}
    create(authed, "one")
    create(authed, "two")

    error_of(authed.post(URL, {"name": "three"}, format="json"), 409, "api_key_limit_reached")
    assert ApiKey.objects.count() == 2
    create(other_authed, "someone else's first")


def test_deleting_a_key_makes_room_under_the_limit(authed, settings):
    settings.OASIS = {**settings.OASIS, "API_KEYS_PER_USER": 1}
    first = create(authed, "one")
    authed.delete(f"{URL}{first['id']}/")

    create(authed, "two")


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 101}, {"name": ["x"]}, {"name": None}],
    ids=["missing", "blank", "too-long", "list", "null"],
)
def test_a_key_needs_a_sensible_name(authed, body):
    error = error_of(authed.post(URL, body, format="json"), 400, "validation_error")

    assert set(error["details"]) == {"name"}
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", URL), ("post", URL), ("delete", f"{URL}{uuid.uuid4()}/")],
)
def test_keys_need_a_token(api, db, method, path):
    error_of(getattr(api, method)(path, {"name": "x"}, format="json"), 401, "not_authenticated")


def test_verify_with_a_key_passes_a_short_access_jwt_for_its_owner(api, user, authed, settings):
    created = create(authed)

    response = verify(api, created["key"])

    assert response.status_code == 200
    assert response["X-User-Id"] == str(user.pk)
    token = response["X-Oasis-Token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = decode_token(token, audience=settings.OASIS["JWT_AUDIENCE"], token_type=ACCESS)
    assert claims["sub"] == str(user.pk)
    assert claims["api_key_id"] == created["id"]
    assert 0 < claims["exp"] - claims["iat"] <= settings.OASIS["API_KEY_TOKEN_LIFETIME"] == 60
    assert me(api, token).json()["id"] == str(user.pk)


def test_each_verify_with_a_key_mints_a_fresh_token(api, authed):
    created = create(authed)

    first = verify(api, created["key"])["X-Oasis-Token"]
    second = verify(api, created["key"])["X-Oasis-Token"]

    assert claims_of(first)["jti"] != claims_of(second)["jti"]


def test_a_deleted_key_is_refused_at_once(api, authed):
    created = create(authed)
    assert verify(api, created["key"]).status_code == 200
    assert cache.get(keys._cache_key(keys._hash(created["key"])))  # the owner is cached

    authed.delete(f"{URL}{created['id']}/")

    error_of(verify(api, created["key"]), 401, "not_authenticated")


def test_verify_records_when_a_key_was_last_used(api, authed):
    created = create(authed)

    verify(api, created["key"])

    assert ApiKey.objects.get(pk=created["id"]).last_used_at is not None
    assert authed.get(URL).json()[0]["last_used_at"] is not None


@pytest.mark.parametrize(
    "tamper",
    [
        last_character_changed,
        lambda key: key[:-1],
        lambda key: key + "x",
        lambda key: "oak_" + "A" * 48,
        lambda key: "oak_",
        lambda key: key.upper(),
    ],
    ids=["secret-changed", "too-short", "too-long", "unknown-prefix", "mark-only", "case-changed"],
)
def test_a_wrong_key_is_refused(api, authed, tamper):
    created = create(authed)

    error_of(verify(api, tamper(created["key"])), 401, "not_authenticated")
    assert ApiKey.objects.get(pk=created["id"]).last_used_at is None


def test_a_key_of_a_deactivated_user_is_refused(api, user, authed):
    created = create(authed)
    User.objects.filter(pk=user.pk).update(is_active=False)

    error_of(verify(api, created["key"]), 401, "not_authenticated")


def test_a_cached_key_of_a_since_deactivated_user_is_refused(api, user, authed):
    created = create(authed)
    assert verify(api, created["key"]).status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    cache.delete(revocation._cutoff_key(str(user.pk)))

    error_of(verify(api, created["key"]), 401, "not_authenticated")


def test_a_key_is_not_accepted_as_a_bearer_token_by_the_api_itself(api, authed):
    # Only the gateway's verify exchanges a key; services see JWTs only.
    created = create(authed)

    error_of(me(api, created["key"]), 401)
