"""API key scopes (apikeys/scopes.py): what a key may do, checked by verify, and what no key may do."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apikeys import scopes
from apikeys.models import ApiKey
from oasis_common.testing import last_character_changed
from tests.conftest import client_for
from tests.helpers import bearer, claims_of, error_of

KEYS = "/api/v1/auth/api-keys/"
PROJECT = "3f2b8c1e-5d4a-4e7b-9c61-0a1b2c3d4e5f"
GENERATION = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"


def create(client, scope=None, name="script"):
    body = {"name": name} if scope is None else {"name": name, "scope": scope}
    response = client.post(KEYS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def verify_as(api, key: str, method: str, uri: str):
    return api.get(
        "/internal/v1/verify", **bearer(key), HTTP_X_ORIGINAL_METHOD=method, HTTP_X_ORIGINAL_URI=uri
    )


@pytest.fixture
def key_of(authed):
    made = {}

    def key(scope: str) -> str:
        if scope not in made:
            made[scope] = create(authed, scope, name=scope)["key"]
        return made[scope]

    return key


# (scope, method, uri, allowed)
REQUESTS = [
    ("read", "GET", "/api/v1/projects/", True),
    ("read", "HEAD", f"/api/v1/projects/{PROJECT}/", True),
    ("read", "OPTIONS", "/api/v1/payments/balance/", True),
    ("read", "GET", f"/api/v1/builder/generations/{GENERATION}/events/", True),
    ("read", "POST", "/api/v1/projects/", False),
    ("read", "PATCH", f"/api/v1/projects/{PROJECT}/", False),
    ("read", "DELETE", f"/api/v1/projects/{PROJECT}/", False),
    ("read", "POST", f"/api/v1/builder/projects/{PROJECT}/generations/", False),
    ("build", "GET", "/api/v1/projects/?page=2", True),
    ("build", "POST", f"/api/v1/builder/projects/{PROJECT}/generations/", True),
    ("build", "POST", f"/api/v1/builder/generations/{GENERATION}/cancel/", True),
    ("build", "POST", "/api/v1/builder/estimate/", True),
    ("build", "POST", "/api/v1/projects/", False),
    ("build", "DELETE", f"/api/v1/builder/generations/{GENERATION}/", False),
    ("build", "PUT", f"/api/v1/builder/projects/{PROJECT}/generations/", False),
    ("build", "POST", "/api/v1/payments/checkout/", False),
    ("build", "POST", f"/api/v1/builder/projects/{PROJECT}/generations/../../../../projects/", False),
    ("build", "POST", f"/api/v1/builder/projects/{PROJECT}/generations/%2e%2e/", False),
    ("build", "POST", f"/api/v1/builder//projects/{PROJECT}/generations/", False),
    ("full", "POST", "/api/v1/projects/", True),
    ("full", "DELETE", f"/api/v1/projects/{PROJECT}/", True),
    ("full", "POST", "/api/v1/payments/checkout/", True),
    ("full", "PATCH", "/api/v1/auth/me/", True),
    ("full", "POST", "/api/v1/auth/logout/", True),
]


@pytest.mark.parametrize(
    ("scope", "method", "uri", "allowed"),
    REQUESTS,
    ids=[f"{scope}-{method}-{uri}" for scope, method, uri, _ in REQUESTS],
)
def test_a_key_reaches_what_its_scope_allows_and_nothing_else(api, key_of, scope, method, uri, allowed):
    response = verify_as(api, key_of(scope), method, uri)

    if allowed:
        assert response.status_code == 200, response.content
        assert claims_of(response["X-Oasis-Token"])["scope"] == scope
    else:
        error_of(response, 403, "insufficient_scope")
        assert response["X-Oasis-Error"] == "insufficient_scope"
        assert "X-User-Id" not in response
        assert "X-Oasis-Token" not in response


ACCOUNT_ONLY = [
    ("GET", KEYS),
    ("POST", KEYS),
    ("GET", f"{KEYS}{uuid.uuid4()}/"),
    ("PATCH", f"{KEYS}{uuid.uuid4()}/"),
    ("DELETE", f"{KEYS}{uuid.uuid4()}/"),
    ("POST", "/api/v1/auth/password/change/"),
    ("POST", "/api/v1/auth/api-keys"),
    ("POST", "/api/v1/auth/api-keys/?name=x"),
    ("POST", "/api/v1//auth//api-keys/"),
    ("POST", "/api/v1/auth/./api-keys/"),
    ("POST", "/api/v1/projects/../auth/api-keys/"),
    ("POST", "/api/v1/auth/api%2Dkeys/"),
    ("POST", "/api/v1/auth/password%2fchange/"),
]


@pytest.mark.parametrize("scope", scopes.SCOPES)
@pytest.mark.parametrize(("method", "uri"), ACCOUNT_ONLY, ids=[f"{m}-{u}" for m, u in ACCOUNT_ONLY])
def test_no_key_manages_keys_or_credentials_however_the_path_is_spelled(api, key_of, scope, method, uri):
    error_of(verify_as(api, key_of(scope), method, uri), 403, "insufficient_scope")


def test_the_same_requests_with_a_signed_in_token_pass(api, tokens):
    for method, uri in ACCOUNT_ONLY:
        assert verify_as(api, tokens["access"], method, uri).status_code == 200


def test_a_key_checked_without_the_original_request_may_only_do_what_full_allows(api, key_of):
    # The gateway always names the request; without it, nothing but a full key gets through.
    assert api.get("/internal/v1/verify", **bearer(key_of("full"))).status_code == 200
    error_of(api.get("/internal/v1/verify", **bearer(key_of("read"))), 403, "insufficient_scope")


def test_a_wrong_key_is_still_a_401_not_a_403(api, key_of):
    wrong = last_character_changed(key_of("read"))

    error_of(verify_as(api, wrong, "POST", "/api/v1/projects/"), 401, "not_authenticated")


def phantom(api, key: str, method="GET", uri="/api/v1/auth/me/") -> str:
    response = verify_as(api, key, method, uri)
    assert response.status_code == 200, response.content
    return response["X-Oasis-Token"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", KEYS, None),
        ("post", KEYS, {"name": "successor"}),
        ("post", "/api/v1/auth/password/change/", {"current_password": "x", "new_password": "y" * 12}),
        ("patch", "/api/v1/auth/me/", {"email": "thief@example.com", "current_password": "x"}),
    ],
    ids=["list-keys", "create-key", "change-password", "change-email"],
)
def test_auth_itself_refuses_a_keys_token_for_keys_and_credentials(api, key_of, method, path, body):
    client = client_for(phantom(api, key_of("full")))

    response = getattr(client, method)(path, body, format="json")

    error_of(response, 403, "insufficient_scope")


def test_auth_refuses_a_keys_token_on_another_users_key_with_the_same_403(api, key_of, other_authed):
    theirs = create(other_authed)
    client = client_for(phantom(api, key_of("full")))

    error_of(client.delete(f"{KEYS}{theirs['id']}/"), 403, "insufficient_scope")
    assert ApiKey.objects.filter(pk=theirs["id"]).exists()


def test_a_full_key_may_still_rename_its_owner(api, key_of):
    client = client_for(phantom(api, key_of("full"), "PATCH"))

    response = client.patch("/api/v1/auth/me/", {"name": "Ada L."}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Ada L."


def test_a_key_is_full_unless_asked_otherwise(authed):
    assert create(authed)["scope"] == "full"


@pytest.mark.parametrize("scope", scopes.SCOPES)
def test_a_key_is_created_with_the_scope_asked_for(authed, scope):
    created = create(authed, scope)

    assert created["scope"] == scope
    assert ApiKey.objects.get(pk=created["id"]).scope == scope
    assert [key["scope"] for key in authed.get(KEYS).json()] == [scope]


@pytest.mark.parametrize("scope", ["admin", "", "READ", None, ["read"], 1], ids=repr)
def test_an_unknown_scope_is_refused(authed, scope):
    response = authed.post(KEYS, {"name": "x", "scope": scope}, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"scope"}
    assert not ApiKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_keys_made_before_scopes_existed_become_full(make_user):
    owner = make_user()
    executor = MigrationExecutor(connection)
    before, after = [("apikeys", "0001_initial")], [("apikeys", "0002_scope")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("apikeys", "ApiKey")
    old.objects.create(user_id=owner.pk, name="old", prefix="oldkey01", secret_hash="0" * 64)

    executor.loader.build_graph()
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert ApiKey.objects.get(prefix="oldkey01").scope == "full"
