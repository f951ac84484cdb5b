"""Staff adjustments: posted with who and why, once per key, and only with an amount, reason and actor."""

import uuid

import pytest

from credits.accounts import account_open
from credits.adjustments import ledger_adjust
from credits.models import CreditAccount, EntryKind


@pytest.fixture
def user_id(db):
    user_id = uuid.uuid4()
    account_open(user_id=user_id)
    return user_id


def test_an_adjustment_records_who_and_why(user_id):
    entry = ledger_adjust(
        user_id=user_id, amount=-300, reason="Duplicate grant", actor="staff:ada", idempotency_key="a1"
    )

    assert (entry.kind, entry.amount, entry.balance_after) == (EntryKind.ADJUSTMENT, -300, 1700)
    assert (entry.reason, entry.actor) == ("Duplicate grant", "staff:ada")
    assert CreditAccount.objects.get(user_id=user_id).balance == 1700


def test_an_adjustment_may_take_the_balance_below_zero(user_id):
    ledger_adjust(user_id=user_id, amount=-2500, reason="Chargeback", actor="staff:ada", idempotency_key="a1")

    assert CreditAccount.objects.get(user_id=user_id).balance == -500


def test_an_adjustment_with_the_same_key_is_posted_once(user_id):
    for _ in range(2):
        ledger_adjust(user_id=user_id, amount=100, reason="Goodwill", actor="staff:ada", idempotency_key="a1")

    assert CreditAccount.objects.get(user_id=user_id).balance == 2100


@pytest.mark.parametrize(
    ("amount", "reason", "actor", "message"),
    [
        (0, "why", "staff:ada", "between 1 and"),
        (10**13, "why", "staff:ada", "between 1 and"),
        (5, " ", "staff:ada", "needs a reason"),
        (5, "why", "", "needs a reason"),
    ],
)
def test_an_adjustment_needs_an_amount_a_reason_and_an_actor(user_id, amount, reason, actor, message):
    with pytest.raises(ValueError, match=message):
        ledger_adjust(user_id=user_id, amount=amount, reason=reason, actor=actor, idempotency_key="a1")

    assert CreditAccount.objects.get(user_id=user_id).balance == 2000
