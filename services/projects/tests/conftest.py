"""Fixtures for the projects tests: users with tokens, the builder's service client, a clean cache."""

import uuid

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from oasis_common.testing import clear_cache, service_token_for, user_token
from tests.helpers import create_project


@pytest.fixture(autouse=True)
def _clean_cache(request):
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


class CommitsEachRequest:
    """Run the on-commit callbacks of each request, as the commit of a real request would."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


class ApiClient(CommitsEachRequest, APIClient):
    pass


def client_for(token: str | None = None) -> ApiClient:
    client = ApiClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def user_client(user_id: uuid.UUID) -> ApiClient:
    client = client_for(user_token(user_id))
    client.user_id = user_id
    return client


@pytest.fixture
def ada(db) -> ApiClient:
    return user_client(uuid.uuid4())


@pytest.fixture
def grace(db) -> ApiClient:
    return user_client(uuid.uuid4())


@pytest.fixture
def anonymous(db) -> ApiClient:
    return client_for()


@pytest.fixture
def builder(db) -> ApiClient:
    return client_for(service_token_for("builder", "projects"))


@pytest.fixture
def project(ada) -> dict:
    return create_project(ada, "Site")


@pytest.fixture
def landing(ada) -> dict:
    return create_project(ada, "Landing", template="landing")
