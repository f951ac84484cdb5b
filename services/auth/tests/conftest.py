"""Fixtures for the auth tests: users, signed-in clients, a clean cache."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from oasis_common.testing import clear_cache

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _clean_cache(request):
    # Lockout counters and revocations must not leak from one test into the next.
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_user(db):
    def make(email="ada@example.com", password=PASSWORD, name="Ada", **fields):
        return User.objects.create_user(email, password, name=name, **fields)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


def sign_in(api, email="ada@example.com", password=PASSWORD, **extra):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json", **extra)


@pytest.fixture
def tokens(api, user):
    response = sign_in(api)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def authed(tokens):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client
