"""Fixtures for the auth tests: users, signed-in clients, a clean cache."""

import pytest
from django.test import Client, TestCase
from rest_framework.test import APIClient

from accounts.models import User
from oasis_common.testing import clear_cache
from tests.helpers import PASSWORD, sign_in


@pytest.fixture(autouse=True)
def _clean_cache(request):
    # Lockout counters and revocations must not leak from one test into the next.
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


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
