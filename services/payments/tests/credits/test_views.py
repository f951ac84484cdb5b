"""The caller's balance and ledger: opened on first look, only ever their own."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from credits.accounts import account_open
from credits.adjustments import ledger_adjust
from credits.holds import hold_create
from credits.models import EntryKind, LedgerEntry
from oasis_common.testing import service_token_for, user_token
from tests.helpers import error_of

BALANCE = "/api/v1/payments/balance/"
LEDGER = "/api/v1/payments/ledger/"


def adjust(user_id, amount, key):
    return ledger_adjust(
        user_id=user_id, amount=amount, reason="test", actor="staff:test", idempotency_key=key
    )


def test_a_new_user_sees_the_welcome_grant_in_their_balance(user):
    response = user.get(BALANCE)

    assert response.status_code == 200
    assert response.json() == {"balance": 2000, "held": 0, "available": 2000}


def test_the_balance_shows_what_holds_reserve(user, user_id):
    hold_create(user_id=user_id, amount=600, reason="generation", service="builder")

    assert user.get(BALANCE).json() == {"balance": 2000, "held": 600, "available": 1400}


def test_a_balance_below_zero_is_shown_as_it_is(user, user_id):
    adjust(user_id, -2500, "a")

    assert user.get(BALANCE).json() == {"balance": -500, "held": 0, "available": -500}


def test_each_user_sees_only_their_own_balance(user, user_id, other_user):
    adjust(user_id, 100, "a")

    assert user.get(BALANCE).json()["balance"] == 2100
    assert other_user.get(BALANCE).json()["balance"] == 2000


@pytest.mark.parametrize("url", [BALANCE, LEDGER])
@pytest.mark.parametrize(
    "token",
    [
        None,
        "not-a-jwt",
        service_token_for("builder", "payments"),
        user_token(uuid.uuid4(), lifetime=-60),
        user_token(uuid.uuid4(), audience="someone-else"),
    ],
    ids=["none", "garbage", "service-token", "expired", "wrong-audience"],
)
def test_the_public_api_needs_a_valid_user_token(api, db, url, token):
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    error_of(api.get(url), 401)


def test_the_ledger_lists_the_users_entries_newest_first(user, user_id):
    adjust(user_id, 100, "a")
    adjust(user_id, -50, "b")

    response = user.get(LEDGER)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [entry["kind"] for entry in body["results"]] == ["adjustment", "adjustment", "grant"]
    assert [entry["amount"] for entry in body["results"]] == [-50, 100, 2000]
    assert [entry["balance_after"] for entry in body["results"]] == [2050, 2100, 2000]
    assert set(body["results"][0]) == {
        "id",
        "kind",
        "amount",
        "held_change",
        "balance_after",
        "held_after",
        "hold_id",
        "generation_id",
        "stripe_object_id",
        "reason",
        "created_at",
    }


def test_a_hold_in_the_ledger_names_its_hold_and_generation(user, user_id):
    hold = hold_create(user_id=user_id, amount=300, reason="build", service="builder", generation_id="gen-1")

    [entry] = user.get(LEDGER, {"kind": "hold"}).json()["results"]

    assert entry["hold_id"] == str(hold.pk)
    assert entry["generation_id"] == "gen-1"
    assert (entry["amount"], entry["held_change"], entry["held_after"]) == (0, 300, 300)


def test_the_ledger_shows_nothing_of_other_users(user, other_user, other_user_id):
    adjust(other_user_id, 100, "a")

    body = user.get(LEDGER).json()

    assert body["count"] == 1
    assert [entry["kind"] for entry in body["results"]] == ["grant"]


def test_the_ledger_filters_by_kind(user, user_id):
    adjust(user_id, 100, "a")
    hold_create(user_id=user_id, amount=10, reason="build", service="builder")

    assert [e["kind"] for e in user.get(LEDGER, {"kind": "adjustment"}).json()["results"]] == ["adjustment"]
    kinds = [e["kind"] for e in user.get(f"{LEDGER}?kind=grant&kind=hold").json()["results"]]
    assert kinds == ["hold", "grant"]


def test_an_unknown_kind_is_refused(user):
    error = error_of(user.get(LEDGER, {"kind": "bonus"}), 400, "validation_error")

    assert set(error["details"]) == {"kind"}


def test_the_ledger_filters_by_time(user, user_id):
    account = account_open(user_id=user_id)
    now = timezone.now()
    # Entries dated in the past, written as ledger_post would have written them then.
    for days_ago in (10, 5, 1):
        account.balance += days_ago
        LedgerEntry.objects.create(
            account=account,
            kind=EntryKind.ADJUSTMENT,
            amount=days_ago,
            balance_after=account.balance,
            held_after=0,
            idempotency_key=f"old:{days_ago}",
            created_at=now - timedelta(days=days_ago),
        )
    account.save()

    since = (now - timedelta(days=6)).isoformat()
    until = (now - timedelta(days=2)).isoformat()
    assert [e["amount"] for e in user.get(LEDGER, {"since": since, "until": until}).json()["results"]] == [5]
    assert [e["amount"] for e in user.get(LEDGER, {"until": until}).json()["results"]] == [5, 10]
    since_date = (now - timedelta(days=2)).date().isoformat()
    assert [e["amount"] for e in user.get(LEDGER, {"since": since_date}).json()["results"]] == [2000, 1]


@pytest.mark.parametrize(
    "query",
    [{"since": "yesterday"}, {"until": "2026-13-01"}, {"since": "2026-02-01", "until": "2026-01-01"}],
)
def test_a_malformed_time_range_is_refused(user, query):
    error_of(user.get(LEDGER, query), 400, "validation_error")


def test_the_ledger_is_paginated(user, user_id):
    for index in range(5):
        adjust(user_id, 1, f"k{index}")

    first = user.get(LEDGER, {"page_size": 4}).json()
    second = user.get(LEDGER, {"page_size": 4, "page": 2}).json()

    assert first["count"] == 6
    assert len(first["results"]) == 4
    assert len(second["results"]) == 2
    assert first["next"]
    assert second["next"] is None


def test_the_ledger_costs_the_same_queries_however_long_it_is(user, user_id, django_assert_num_queries):
    user.get(LEDGER)
    for index in range(20):
        adjust(user_id, 1, f"k{index}")
    hold_create(user_id=user_id, amount=5, reason="build", service="builder")

    # The account, the count, the page.
    with django_assert_num_queries(3):
        response = user.get(LEDGER)

    assert response.json()["count"] == 22
