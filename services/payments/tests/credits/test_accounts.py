"""Accounts open on first use with the welcome grant, exactly once per user."""

import uuid

import pytest
from django.db import transaction

from credits.accounts import account_lock, account_open
from credits.models import CreditAccount, EntryKind, LedgerEntry


def test_a_new_user_gets_an_account_with_the_welcome_grant(db):
    user_id = uuid.uuid4()

    account = account_open(user_id=user_id)

    assert (account.balance, account.held, account.available) == (2000, 0, 2000)
    [grant] = LedgerEntry.objects.filter(account=account)
    assert grant.kind == EntryKind.GRANT
    assert (grant.amount, grant.balance_after, grant.held_after) == (2000, 2000, 0)
    assert grant.idempotency_key == f"welcome:{user_id}"
    assert grant.reason == "Welcome credits"


def test_opening_an_account_again_grants_nothing_more(db):
    user_id = uuid.uuid4()
    first = account_open(user_id=user_id)

    again = account_open(user_id=user_id)

    assert again.pk == first.pk
    assert again.balance == 2000
    assert LedgerEntry.objects.filter(account=first).count() == 1


def test_the_welcome_grant_follows_the_setting(db, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "WELCOME_CREDITS": 750}

    assert account_open(user_id=uuid.uuid4()).balance == 750


def test_no_welcome_grant_when_the_setting_is_zero(db, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "WELCOME_CREDITS": 0}

    account = account_open(user_id=uuid.uuid4())

    assert account.balance == 0
    assert not LedgerEntry.objects.filter(account=account).exists()


def test_each_user_has_their_own_account(db):
    first, second = account_open(user_id=uuid.uuid4()), account_open(user_id=uuid.uuid4())

    assert first.pk != second.pk
    assert CreditAccount.objects.count() == 2


def test_locking_an_account_opens_it_first(db):
    user_id = uuid.uuid4()

    with transaction.atomic():
        account = account_lock(user_id=user_id)

    assert account.user_id == user_id
    assert account.balance == 2000


def test_locking_an_account_outside_a_transaction_is_a_programming_error(transactional_db):
    with pytest.raises(RuntimeError):
        account_lock(user_id=uuid.uuid4())
