"""Races on real threads and committed transactions: one refresh, one account, one reset, one key limit.

These are the guarantees the database gives (unique inserts, row locks); they run on
PostgreSQL in CI and on the SQLite file the development setup uses.
"""

import pytest
from django.core import mail

from accounts.models import User
from apikeys.models import ApiKey
from oasis_common.testing import run_concurrently
from tests.conftest import ApiClient, client_for
from tests.helpers import PASSWORD, refresh, reset_link_parts, sign_in, verify

THREADS = 8

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("transactional_db")]


def statuses(results) -> list[int]:
    for result in results:
        if isinstance(result, Exception):
            raise result
    return sorted(result.status_code for result in results)


def test_one_refresh_token_used_at_once_by_many_gets_exactly_one_new_pair_then_loses_its_family(make_user):
    make_user()
    pair = sign_in(ApiClient()).json()

    results = run_concurrently(THREADS, lambda _: refresh(ApiClient(), pair["refresh"]))

    assert statuses(results) == [200] + [401] * (THREADS - 1)
    refused = [result.json()["error"]["code"] for result in results if result.status_code == 401]
    assert set(refused) == {"token_reused"}
    # The others were reuses: whichever of them was the thief, the whole sign-in is over.
    [winner] = [result.json() for result in results if result.status_code == 200]
    assert refresh(ApiClient(), winner["refresh"]).json()["error"]["code"] == "token_revoked"
    assert verify(ApiClient(), winner["access"]).status_code == 401


def test_one_email_registered_at_once_by_many_makes_exactly_one_account():
    def register(_):
        return ApiClient().post(
            "/api/v1/auth/register/",
            {"email": "race@example.com", "password": PASSWORD},
            format="json",
        )

    results = run_concurrently(THREADS, register)

    assert statuses(results) == [201] + [400] * (THREADS - 1)
    for result in results:
        if result.status_code == 400:
            assert set(result.json()["error"]["details"]) == {"email"}
    assert User.objects.filter(email__iexact="race@example.com").count() == 1


def test_one_reset_link_used_at_once_by_many_succeeds_exactly_once(make_user):
    make_user()
    ApiClient().post("/api/v1/auth/password/reset/", {"email": "ada@example.com"}, format="json")
    uid, token = reset_link_parts(mail.outbox[0])
    passwords = [f"new passphrase number {index}" for index in range(THREADS)]

    def confirm(index):
        return ApiClient().post(
            "/api/v1/auth/password/reset/confirm/",
            {"uid": uid, "token": token, "new_password": passwords[index]},
            format="json",
        )

    results = run_concurrently(THREADS, confirm)

    assert statuses(results) == [204] + [400] * (THREADS - 1)
    refused = {result.json()["error"]["code"] for result in results if result.status_code == 400}
    assert refused == {"invalid_reset_token"}
    [winner] = [passwords[index] for index, result in enumerate(results) if result.status_code == 204]
    assert sign_in(ApiClient(), password=winner).status_code == 200


def test_creating_keys_at_once_cannot_pass_the_per_user_limit(make_user, settings):
    settings.OASIS = {**settings.OASIS, "API_KEYS_PER_USER": 3}
    make_user()
    access = sign_in(ApiClient()).json()["access"]

    results = run_concurrently(
        THREADS, lambda _: client_for(access).post("/api/v1/auth/api-keys/", {"name": "k"}, format="json")
    )

    assert statuses(results) == [201] * 3 + [409] * (THREADS - 3)
    assert ApiKey.objects.count() == 3


def test_sign_ups_at_once_from_one_address_cannot_pass_its_burst(settings):
    settings.OASIS = {**settings.OASIS, "REGISTER_BURST": 3}

    def register(index):
        return ApiClient().post(
            "/api/v1/auth/register/",
            {"email": f"burst-{index}@example.com", "password": PASSWORD},
            format="json",
            HTTP_X_FORWARDED_FOR="198.51.100.4",
        )

    results = run_concurrently(THREADS, register)

    assert statuses(results) == [201] * 3 + [429] * (THREADS - 3)
    assert User.objects.count() == 3
