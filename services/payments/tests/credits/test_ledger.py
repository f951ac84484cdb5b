"""The ledger: entries move the cached totals with them, are posted once per key, and never change."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from credits.accounts import account_lock, account_open
from credits.ledger import ledger_post
from credits.models import CreditAccount, EntryKind, LedgerEntry, LedgerIsAppendOnly


def post(user_id, **fields):
    with transaction.atomic():
        account = account_lock(user_id=user_id)
        return ledger_post(account=account, **fields)


@pytest.fixture
def user_id(db):
    user_id = uuid.uuid4()
    account_open(user_id=user_id)
    return user_id


@pytest.fixture
def entry(user_id):
    return LedgerEntry.objects.get(account__user_id=user_id)


def test_an_entry_moves_the_cached_totals_and_records_them(user_id):
    entry = post(
        user_id, kind=EntryKind.PURCHASE, amount=500, idempotency_key="purchase:cs_1", actor="stripe"
    )

    account = CreditAccount.objects.get(user_id=user_id)
    assert (account.balance, account.held) == (2500, 0)
    assert (entry.amount, entry.held_change, entry.balance_after, entry.held_after) == (500, 0, 2500, 0)


def test_a_key_already_posted_is_not_posted_again(user_id):
    first = post(user_id, kind=EntryKind.PURCHASE, amount=500, idempotency_key="purchase:cs_1")

    again = post(user_id, kind=EntryKind.PURCHASE, amount=500, idempotency_key="purchase:cs_1")

    assert again.pk == first.pk
    assert CreditAccount.objects.get(user_id=user_id).balance == 2500
    assert LedgerEntry.objects.filter(idempotency_key="purchase:cs_1").count() == 1


def test_a_key_of_another_account_is_refused(user_id):
    other = uuid.uuid4()
    post(user_id, kind=EntryKind.PURCHASE, amount=500, idempotency_key="purchase:cs_1")

    with pytest.raises(ValueError, match="another account"):
        post(other, kind=EntryKind.PURCHASE, amount=500, idempotency_key="purchase:cs_1")


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_a_programming_error(user_id):
    account = CreditAccount.objects.get(user_id=user_id)

    with pytest.raises(RuntimeError):
        ledger_post(account=account, kind=EntryKind.GRANT, amount=1, idempotency_key="x")


def test_an_entry_cannot_be_saved_again(entry):
    entry.reason = "rewritten"

    with pytest.raises(LedgerIsAppendOnly):
        entry.save()


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()


@pytest.mark.parametrize(
    "change",
    [
        lambda entries: entries.update(amount=1),
        lambda entries: entries.delete(),
        lambda entries: entries.bulk_update(list(entries), ["amount"]),
    ],
    ids=["update", "delete", "bulk_update"],
)
def test_entries_cannot_be_changed_in_bulk(entry, change):
    with pytest.raises(LedgerIsAppendOnly):
        change(LedgerEntry.objects.filter(pk=entry.pk))

    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


def test_the_database_refuses_to_update_an_entry(entry):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE credits_ledgerentry SET amount = amount + 1 WHERE id = %s", [entry.pk])

    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite keeps DELETE for Django's test flush (see 0002)"
)
def test_the_database_refuses_to_delete_an_entry(entry):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM credits_ledgerentry WHERE id = %s", [entry.pk])

    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("kind", "amount", "held_change", "balance_after", "held_after"),
    [
        ("grant", -5, 0, 0, 0),
        ("purchase", 0, 0, 0, 0),
        ("purchase", 5, 5, 5, 5),
        ("refund", 5, 0, 5, 0),
        ("dispute", -5, -5, 0, 0),
        ("dispute_reversal", -5, 0, 0, 0),
        ("hold", -5, 5, 5, 5),
        ("hold", 0, -5, 5, 0),
        ("hold", 0, 10, 5, 10),
        ("capture", -5, 0, 0, 0),
        ("capture", 5, 5, 10, 5),
        ("release", 5, -5, 5, 0),
        ("adjustment", 0, 0, 0, 0),
        ("adjustment", 5, 5, 5, 5),
        ("gift", 5, 0, 5, 0),
        ("grant", 5, 0, 5, -1),
    ],
)
def test_the_database_refuses_an_entry_that_breaks_the_rules_of_its_kind(
    user_id, kind, amount, held_change, balance_after, held_after
):
    account = CreditAccount.objects.get(user_id=user_id)

    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account,
            kind=kind,
            amount=amount,
            held_change=held_change,
            balance_after=balance_after,
            held_after=held_after,
            idempotency_key=f"bad:{uuid.uuid4()}",
        )


def test_the_database_refuses_negative_held_credits(user_id):
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user_id=user_id).update(held=F("held") - 1)
