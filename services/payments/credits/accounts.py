"""Credit accounts: opened on first use with the welcome grant, locked for every change."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from credits import ledger
from credits.models import CreditAccount, EntryKind


def welcome_key(user_id) -> str:
    return f"welcome:{user_id}"


def account_open(*, user_id) -> CreditAccount:
    """The user's account, opened with the welcome grant if this is its first use.

    Concurrent first uses race on the unique user id: one inserts the account and its
    grant, the others wait for it, fail to insert, and read the winner's account.
    """
    account = CreditAccount.objects.filter(user_id=user_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = CreditAccount.objects.create(user_id=user_id)
            welcome = settings.PAYMENTS["WELCOME_CREDITS"]
            if welcome:
                ledger.ledger_post(
                    account=account,
                    kind=EntryKind.GRANT,
                    amount=welcome,
                    idempotency_key=welcome_key(user_id),
                    reason="Welcome credits",
                    actor="payments",
                )
    except IntegrityError:
        account = CreditAccount.objects.get(user_id=user_id)
    return account


def account_lock(*, user_id) -> CreditAccount:
    """The user's account, opened if need be, row-locked until the current transaction ends.

    One query once the account exists (every use but the first).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("account_lock must run inside transaction.atomic")
    account = CreditAccount.objects.select_for_update().filter(user_id=user_id).first()
    if account is not None:
        return account
    account_open(user_id=user_id)
    return CreditAccount.objects.select_for_update().get(user_id=user_id)
