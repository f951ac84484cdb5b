"""Races on real threads and committed transactions: holds, settlements and first uses.

The guarantees come from the database (row locks, unique keys); these tests run on
PostgreSQL in CI and on the SQLite file the development setup uses.
"""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from credits.holds import holds_release_expired
from credits.models import CreditAccount, EntryKind, Hold, HoldStatus, LedgerEntry
from oasis_common.testing import service_token_for, user_token
from tests.conftest import client_for
from tests.helpers import place_hold, run_concurrently, settle, totals_of

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture(autouse=True)
def _mint_in_the_main_thread():
    # The suite's signing key is made on first use; threads racing to make it would each
    # make their own, and the service would trust only one of them.
    service_token_for("builder", "payments")


def builder():
    return client_for(service_token_for("builder", "payments"))


def statuses(results) -> list[int]:
    return sorted(result.status_code for result in results)


def assert_ledger_sound():
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "agree" in out.getvalue()


def test_fifty_holds_at_once_against_credits_for_ten_let_exactly_ten_through():
    user_id = str(uuid.uuid4())

    results = run_concurrently(50, lambda _: place_hold(builder(), user_id, 200))

    assert statuses(results) == [201] * 10 + [402] * 40
    assert {r.json()["error"]["code"] for r in results if r.status_code == 402} == {"insufficient_credits"}
    assert totals_of(user_id) == (2000, 2000)
    assert Hold.objects.filter(status=HoldStatus.OPEN).count() == 10
    # Every hold entry records the account as it left it: available never dipped below zero.
    entries = LedgerEntry.objects.filter(account__user_id=user_id, kind=EntryKind.HOLD)
    assert entries.count() == 10
    assert all(entry.held_after <= entry.balance_after for entry in entries)
    assert sorted(entry.held_after for entry in entries) == list(range(200, 2001, 200))
    assert_ledger_sound()


def test_concurrent_capture_and_release_of_one_hold_settle_it_exactly_once():
    user_id = str(uuid.uuid4())
    hold_id = place_hold(builder(), user_id, 500).json()["hold_id"]

    def race(index):
        if index % 2:
            return settle(builder(), hold_id, "release")
        return settle(builder(), hold_id, "capture", amount=300)

    results = run_concurrently(8, race)

    assert statuses(results) == [200] + [409] * 7
    [winner] = [result.json() for result in results if result.status_code == 200]
    hold = Hold.objects.get(pk=hold_id)
    assert hold.status == winner["status"]
    expected = (1700, 0) if hold.status == HoldStatus.CAPTURED else (2000, 0)
    assert totals_of(user_id) == expected
    assert LedgerEntry.objects.filter(hold_id=hold_id).exclude(kind=EntryKind.HOLD).count() in (1, 2)
    assert_ledger_sound()


def test_the_same_idempotency_key_sent_at_once_places_one_hold():
    user_id = str(uuid.uuid4())

    results = run_concurrently(8, lambda _: place_hold(builder(), user_id, 300, key="gen-42:hold"))

    assert statuses(results) == [201] * 8
    assert len({result.json()["hold_id"] for result in results}) == 1
    assert Hold.objects.count() == 1
    assert totals_of(user_id) == (2000, 300)
    assert_ledger_sound()


def test_the_sweeper_racing_a_capture_settles_the_hold_once():
    user_id = str(uuid.uuid4())
    hold_id = place_hold(builder(), user_id, 500).json()["hold_id"]
    soon = timezone.now() + timedelta(seconds=2)
    Hold.objects.filter(pk=hold_id).update(expires_at=soon)

    def race(index):
        if index == 0:
            return holds_release_expired(now=soon)
        return settle(builder(), hold_id, "release")

    results = run_concurrently(4, race)

    released_by_sweeper = results[0]
    released_by_api = [result.status_code for result in results[1:]].count(200)
    assert released_by_sweeper + released_by_api == 1
    assert totals_of(user_id) == (2000, 0)
    assert_ledger_sound()


def test_a_new_users_first_requests_at_once_open_one_account_with_one_grant():
    user_id = str(uuid.uuid4())
    token = user_token(user_id)

    results = run_concurrently(10, lambda _: client_for(token).get("/api/v1/payments/balance/"))

    assert statuses(results) == [200] * 10
    assert {result.json()["balance"] for result in results} == {2000}
    assert CreditAccount.objects.filter(user_id=user_id).count() == 1
    assert LedgerEntry.objects.filter(account__user_id=user_id, kind=EntryKind.GRANT).count() == 1
    assert_ledger_sound()
