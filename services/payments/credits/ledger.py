"""Posting to the ledger: every change to an account's credits goes through `ledger_post`."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet

from credits.models import CreditAccount, EntryKind, Hold, LedgerEntry


def ledger_post(
    *,
    account: CreditAccount,
    kind: EntryKind,
    amount: int,
    idempotency_key: str,
    held_change: int = 0,
    hold: Hold | None = None,
    generation_id: str = "",
    stripe_object_id: str = "",
    stripe_event_id: str = "",
    reason: str = "",
    actor: str = "",
) -> LedgerEntry:
    """Post one entry to `account` and move its cached totals with it.

    The caller holds the account's row lock (`account_lock`) in the current transaction,
    so entries of one account are posted one at a time. A key that was already posted
    is not posted again: the earlier entry is returned and nothing moves.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post must run inside transaction.atomic with the account locked")
    existing = LedgerEntry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.account_id != account.pk:
            raise ValueError(f"Ledger key {idempotency_key!r} belongs to another account")
        return existing
    account.balance += amount
    account.held += held_change
    account.save(update_fields=["balance", "held", "updated_at"])
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        held_change=held_change,
        balance_after=account.balance,
        held_after=account.held,
        idempotency_key=idempotency_key,
        hold=hold,
        generation_id=generation_id,
        stripe_object_id=stripe_object_id,
        stripe_event_id=stripe_event_id,
        reason=reason,
        actor=actor,
    )


def ledger_entries(
    *,
    user_id,
    kinds: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[LedgerEntry]:
    """The user's own entries, newest first, optionally of some kinds and within [since, until)."""
    entries = LedgerEntry.objects.filter(account__user_id=user_id)
    if kinds:
        entries = entries.filter(kind__in=kinds)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.order_by("-created_at", "-id")
