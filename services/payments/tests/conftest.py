"""Fixtures for the payments tests: callers with tokens, Stripe keys and its API, and the ledger check."""

import io
import uuid

import pytest
import responses
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from oasis_common.testing import clear_cache, service_token_for, user_token
from tests.helpers import STRIPE_KEY, WEBHOOK_SECRET


@pytest.fixture(autouse=True)
def _clean_cache_and_check_ledger(request):
    """Start each database test with an empty cache, and end it with `check_ledger` passing."""
    fixture = next((name for name in ("transactional_db", "db") if name in request.fixturenames), None)
    if fixture is None:
        yield
        return
    request.getfixturevalue(fixture)
    clear_cache()
    yield
    if request.node.get_closest_marker("corrupts_ledger"):
        return
    errors = io.StringIO()
    try:
        call_command("check_ledger", stdout=io.StringIO(), stderr=errors)
    except CommandError as exc:
        pytest.fail(f"check_ledger failed after the test: {exc}\n{errors.getvalue()}")


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user_id():
    return str(uuid.uuid4())


@pytest.fixture
def other_user_id():
    return str(uuid.uuid4())


@pytest.fixture
def user(db, user_id):
    return client_for(user_token(user_id))


@pytest.fixture
def other_user(db, other_user_id):
    return client_for(user_token(other_user_id))


@pytest.fixture
def builder(db):
    """The builder service, calling the internal API with its service token."""
    return client_for(service_token_for("builder", "payments"))


@pytest.fixture
def stripe_keys(settings):
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "STRIPE_SECRET_KEY": STRIPE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }


@pytest.fixture
def stripe_api(stripe_keys):
    """Stripe's API as the `stripe` library reaches it; every call a test expects must be made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
