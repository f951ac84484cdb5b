"""Fixtures for the auth tests: users, signed-in clients, a clean cache."""

import pytest
from django.core.cache import caches
from django.test import Client, TestCase
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from accounts.models import User
from oasis_common.testing import clear_cache
from tests.helpers import PASSWORD, sign_in
from tokens import shared_cache


@pytest.fixture(autouse=True)
def _clean_cache(request):
    # Lockout counters, revocations and a failure the cache had must not leak into the next test.
    shared_cache.reset()
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


@pytest.fixture
def redis_down(settings):
    """Call it to make the shared cache a Redis nobody answers at (connection refused, at once)."""

    def down():
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            }
        }

    return down


@pytest.fixture
def quick_cache(settings):
    """A cache that costs no query, as Redis does, whatever the suite's backend: query counts
    then count the database alone."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()


@pytest.fixture
def cache_fails(db, monkeypatch):
    """The cache backend raises what redis-py raises when Redis is gone; `calls` counts the attempts."""
    calls = []

    def fail(operation):
        def raise_(*args, **kwargs):
            calls.append(operation)
            raise RedisConnectionError("Error 111 connecting to redis:6379. Connection refused.")

        return raise_

    for operation in ("get", "get_many", "add", "set", "delete", "delete_many", "incr"):
        monkeypatch.setattr(caches["default"], operation, fail(operation))
    return calls


class CommitsEachRequest:
    """Run the on-commit callbacks of each request, as the commit of a real request would.

    Tests using `db` run inside one transaction that never commits, so without this a
    revocation published on commit (password change, API key deletion) would never
    reach the cache and the tests would check a system that does not exist.
    """

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


class ApiClient(CommitsEachRequest, APIClient):
    pass


class BrowserClient(CommitsEachRequest, Client):
    pass


@pytest.fixture
def api():
    return ApiClient()


@pytest.fixture
def client():
    return BrowserClient()


@pytest.fixture
def make_user(db):
    def make(email="ada@example.com", password=PASSWORD, name="Ada", **fields):
        return User.objects.create_user(email, password, name=name, **fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def other_user(make_user):
    return make_user("grace@example.com", name="Grace")


@pytest.fixture
def tokens(api, user):
    response = sign_in(api)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def other_tokens(api, other_user):
    response = sign_in(api, "grace@example.com")
    assert response.status_code == 200, response.content
    return response.json()


def client_for(access: str) -> ApiClient:
    client = ApiClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def authed(tokens):
    return client_for(tokens["access"])


@pytest.fixture
def other_authed(other_tokens):
    return client_for(other_tokens["access"])
