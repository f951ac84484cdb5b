"""Holds: reserve credits before work starts, then capture what it used and release the rest.

A hold moves from `open` to exactly one of `captured`, `released` or `expired`. Every
transition locks the account, then the hold, and re-reads the status under the lock,
so a capture racing a release (or the sweeper) settles the hold exactly once.

Each runs in a transaction of its own, or in the caller's (an idempotent view's) as a part of it
without a savepoint of its own: an error rolls back to the caller's savepoint, and a hold costs
two round trips to the database fewer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credits.accounts import account_lock
from credits.errors import CaptureExceedsHold, HoldExpired, HoldNotFound, HoldNotOpen, InsufficientCredits
from credits.ledger import ledger_post
from credits.models import CreditAccount, EntryKind, Hold, HoldStatus


def hold_create(
    *,
    user_id,
    amount: int,
    reason: str,
    service: str,
    generation_id: str = "",
    ttl_seconds: int | None = None,
) -> Hold:
    """Reserve `amount` credits, or raise InsufficientCredits if fewer are available.

    A balance below zero (after a refund or a dispute) leaves nothing available, so
    every new hold is refused until it is made good.
    """
    ttl = ttl_seconds or settings.PAYMENTS["HOLD_TTL_SECONDS"]
    with transaction.atomic(savepoint=False):
        account = account_lock(user_id=user_id)
        if amount > account.available:
            raise InsufficientCredits(details={"available": account.available, "requested": amount})
        now = timezone.now()
        hold = Hold.objects.create(
            account=account,
            service=service,
            amount=amount,
            reason=reason,
            generation_id=generation_id,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        ledger_post(
            account=account,
            kind=EntryKind.HOLD,
            amount=0,
            held_change=amount,
            idempotency_key=f"hold:{hold.pk}",
            hold=hold,
            generation_id=generation_id,
            reason=reason,
            actor=f"service:{service}",
        )
    hold.account = account
    return hold


def hold_get(*, hold_id, service: str) -> Hold:
    """A hold placed by `service`; another service's hold does not exist for it."""
    hold = Hold.objects.select_related("account").filter(pk=hold_id, service=service).first()
    if hold is None:
        raise HoldNotFound()
    return hold


def _lock_open(*, hold_id, service: str) -> tuple[CreditAccount, Hold]:
    """Lock the hold's account, then the hold (always in this order), and check it is open."""
    account_id = Hold.objects.filter(pk=hold_id, service=service).values_list("account_id", flat=True).first()
    if account_id is None:
        raise HoldNotFound()
    account = CreditAccount.objects.select_for_update().get(pk=account_id)
    hold = Hold.objects.select_for_update().get(pk=hold_id)
    if hold.status != HoldStatus.OPEN:
        raise HoldNotOpen(details={"status": hold.status})
    hold.account = account
    return account, hold


def _release_rest(*, account: CreditAccount, hold: Hold, amount: int, actor: str) -> None:
    if amount > 0:
        ledger_post(
            account=account,
            kind=EntryKind.RELEASE,
            amount=0,
            held_change=-amount,
            idempotency_key=f"hold:{hold.pk}:release",
            hold=hold,
            generation_id=hold.generation_id,
            reason=hold.reason,
            actor=actor,
        )


def _close(hold: Hold, *, status: HoldStatus, captured: int | None, now: datetime) -> None:
    hold.status = status
    hold.captured_amount = captured
    hold.closed_at = now
    hold.save(update_fields=["status", "captured_amount", "closed_at"])


def hold_capture(*, hold_id, amount: int, service: str) -> Hold:
    """Charge `amount` (at most what the hold reserved) and release the rest."""
    with transaction.atomic(savepoint=False):
        account, hold = _lock_open(hold_id=hold_id, service=service)
        now = timezone.now()
        if hold.expires_at <= now:
            # The sweeper releases it; charging now would spend credits already promised back.
            raise HoldExpired(details={"expires_at": hold.expires_at.isoformat()})
        if amount > hold.amount:
            raise CaptureExceedsHold(details={"held": hold.amount, "requested": amount})
        actor = f"service:{service}"
        if amount > 0:
            ledger_post(
                account=account,
                kind=EntryKind.CAPTURE,
                amount=-amount,
                held_change=-amount,
                idempotency_key=f"hold:{hold.pk}:capture",
                hold=hold,
                generation_id=hold.generation_id,
                reason=hold.reason,
                actor=actor,
            )
        _release_rest(account=account, hold=hold, amount=hold.amount - amount, actor=actor)
        _close(hold, status=HoldStatus.CAPTURED, captured=amount, now=now)
    return hold


def hold_release(*, hold_id, service: str) -> Hold:
    """Give every held credit back: the work did not happen, or failed through no fault of the user."""
    with transaction.atomic(savepoint=False):
        account, hold = _lock_open(hold_id=hold_id, service=service)
        _release_rest(account=account, hold=hold, amount=hold.amount, actor=f"service:{service}")
        _close(hold, status=HoldStatus.RELEASED, captured=None, now=timezone.now())
    return hold


def holds_release_expired(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Release every open hold whose time is up; return how many were released.

    Each hold is settled in its own transaction, under the same locks as a capture, so
    a capture or release that gets there first simply wins and the hold is skipped.
    """
    now = now or timezone.now()
    released = 0
    while True:
        due = list(
            Hold.objects.filter(status=HoldStatus.OPEN, expires_at__lte=now)
            .order_by("expires_at")
            .values_list("pk", "account_id")[:batch_size]
        )
        if not due:
            return released
        for hold_id, account_id in due:
            with transaction.atomic():
                account = CreditAccount.objects.select_for_update().get(pk=account_id)
                hold = Hold.objects.select_for_update().get(pk=hold_id)
                if hold.status != HoldStatus.OPEN:
                    continue
                _release_rest(account=account, hold=hold, amount=hold.amount, actor="payments:sweeper")
                _close(hold, status=HoldStatus.EXPIRED, captured=None, now=timezone.now())
                released += 1
