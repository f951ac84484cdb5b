"""`manage.py check_ledger`: silent agreement on a sound ledger, a non-zero exit on any difference."""

import io
import uuid
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import F

from credits.accounts import account_lock
from credits.adjustments import ledger_adjust
from credits.holds import hold_capture, hold_create, hold_release
from credits.ledger import ledger_post
from credits.models import CreditAccount, EntryKind, Hold, LedgerEntry


@pytest.fixture
def busy_user(db):
    """An account that has seen every kind of movement the credit domain makes itself."""
    user_id = uuid.uuid4()
    captured = hold_create(user_id=user_id, amount=400, reason="a", service="builder")
    hold_capture(hold_id=captured.pk, amount=250, service="builder")
    released = hold_create(user_id=user_id, amount=100, reason="b", service="builder")
    hold_release(hold_id=released.pk, service="builder")
    hold_create(user_id=user_id, amount=300, reason="c", service="builder")
    ledger_adjust(user_id=user_id, amount=-50, reason="fix", actor="staff:test", idempotency_key="x")
    return user_id


def check_ledger_exit_code() -> tuple[int, str]:
    """The exit code `manage.py check_ledger` would end with, and what it printed on stderr.

    Django exits with a CommandError's `returncode`; test_commands.py runs the real process.
    """
    errors = io.StringIO()
    try:
        call_command("check_ledger", stdout=io.StringIO(), stderr=errors)
    except CommandError as exc:
        return exc.returncode, errors.getvalue()
    return 0, errors.getvalue()


def test_a_sound_ledger_passes(busy_user):
    out = io.StringIO()

    call_command("check_ledger", stdout=out)

    assert out.getvalue().strip() == "The ledger and the accounts agree."
    assert CreditAccount.objects.get(user_id=busy_user).balance == 2000 - 250 - 50


def test_an_empty_ledger_passes(db):
    assert check_ledger_exit_code() == (0, "")


@pytest.mark.corrupts_ledger
def test_a_hand_corrupted_balance_fails_with_a_non_zero_exit(busy_user):
    CreditAccount.objects.filter(user_id=busy_user).update(balance=F("balance") + 1)

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert f"account {busy_user}: balance is 1701 but its entries sum to 1700" in printed


@pytest.mark.corrupts_ledger
def test_a_hand_corrupted_held_amount_fails(busy_user):
    CreditAccount.objects.filter(user_id=busy_user).update(held=F("held") + 5)

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert "held is 305 but its entries sum to 300" in printed
    assert "held is 305 but its open holds total 300" in printed


@pytest.mark.corrupts_ledger
def test_an_entry_that_does_not_follow_from_the_one_before_fails(busy_user):
    account = CreditAccount.objects.get(user_id=busy_user)
    LedgerEntry.objects.create(
        account=account,
        kind=EntryKind.GRANT,
        amount=10,
        balance_after=999,
        held_after=300,
        idempotency_key="forged",
    )

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert "records balance 999 and held 300, but the entries before it give 1710 and 300" in printed


@pytest.mark.corrupts_ledger
def test_an_open_hold_without_its_reserving_entry_fails(busy_user):
    account = CreditAccount.objects.get(user_id=busy_user)
    hold = Hold.objects.create(
        account=account, service="builder", amount=10, reason="forged", expires_at=account.created_at
    )

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert f"hold {hold.pk} (open): reserves 10 but its hold entry reserved 0" in printed


@pytest.mark.corrupts_ledger
def test_a_settled_hold_whose_credits_were_never_returned_fails(busy_user):
    hold = Hold.objects.filter(account__user_id=busy_user, status="open").get()
    Hold.objects.filter(pk=hold.pk).update(status="released", closed_at=hold.created_at)

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert f"hold {hold.pk} (released): settled 0 of its 300" in printed


@contextmanager
def hold_limit_unchecked():
    """Let the database accept a hold beyond the balance, as a database without our migrations would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # DDL is transactional here: the test's rollback puts the constraint back.
            cursor.execute("ALTER TABLE credits_ledgerentry DROP CONSTRAINT ledger_hold_within_available")
            yield
        else:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
            try:
                yield
            finally:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")


@pytest.mark.corrupts_ledger
def test_a_hold_that_took_more_than_was_available_fails(db):
    user_id = uuid.uuid4()
    with transaction.atomic(), hold_limit_unchecked():
        account = account_lock(user_id=user_id)
        hold = Hold.objects.create(
            account=account, service="builder", amount=3000, reason="x", expires_at=account.created_at
        )
        ledger_post(
            account=account,
            kind=EntryKind.HOLD,
            amount=0,
            held_change=3000,
            idempotency_key=f"hold:{hold.pk}",
            hold=hold,
        )

    code, printed = check_ledger_exit_code()

    assert code == 1
    assert "the hold took more than was available (3000 > 2000)" in printed
