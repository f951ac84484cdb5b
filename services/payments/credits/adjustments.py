"""Staff adjustments: a manual correction to an account's credits, posted to the ledger with who and why."""

from __future__ import annotations

from django.db import transaction

from credits.accounts import account_lock
from credits.ledger import ledger_post
from credits.models import MAX_CREDITS, EntryKind, LedgerEntry


def ledger_adjust(*, user_id, amount: int, reason: str, actor: str, idempotency_key: str) -> LedgerEntry:
    """A manual correction by staff: who and why are kept on the entry.

    A debit may take the balance below zero, as a refund can; holds are then refused.
    """
    if amount == 0 or abs(amount) > MAX_CREDITS:
        raise ValueError(f"An adjustment moves between 1 and {MAX_CREDITS} credits either way")
    if not reason.strip() or not actor.strip():
        raise ValueError("An adjustment needs a reason and the person who made it")
    with transaction.atomic():
        account = account_lock(user_id=user_id)
        return ledger_post(
            account=account,
            kind=EntryKind.ADJUSTMENT,
            amount=amount,
            idempotency_key=f"adjustment:{idempotency_key}",
            reason=reason.strip(),
            actor=actor,
        )
