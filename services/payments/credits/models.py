"""Credit accounts, their append-only ledger, and holds on credits.

Amounts are whole credits (1 credit = USD 0.001 at list price). Each ledger entry says
how it moved the account: `amount` is the signed change to the balance, `held_change`
the signed change to the held credits, and `balance_after`/`held_after` the account as
the entry left it. The account caches both totals beside the entries, updated under a
row lock in the same transaction; `check_ledger` proves the two agree.
"""

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# Far beyond any real amount, far below a 64-bit overflow however entries add up.
MAX_CREDITS = 10**12


class CreditAccount(models.Model):
    user_id = models.UUIDField(unique=True)
    balance = models.BigIntegerField(default=0, help_text="May go below zero after a refund or dispute.")
    held = models.BigIntegerField(default=0, help_text="Credits reserved by open holds.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("post_adjustment", "Can post a credit adjustment")]
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="credit_account_held_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.user_id)

    @property
    def available(self) -> int:
        return self.balance - self.held


class EntryKind(models.TextChoices):
    GRANT = "grant"
    PURCHASE = "purchase"
    HOLD = "hold"
    CAPTURE = "capture"
    RELEASE = "release"
    REFUND = "refund"
    DISPUTE = "dispute"
    DISPUTE_REVERSAL = "dispute_reversal"
    ADJUSTMENT = "adjustment"


CREDITS_IN = (EntryKind.GRANT, EntryKind.PURCHASE, EntryKind.DISPUTE_REVERSAL)
CREDITS_OUT = (EntryKind.REFUND, EntryKind.DISPUTE)

# How each kind may move the account; the database refuses anything else.
ENTRY_SHAPES = (
    Q(kind__in=CREDITS_IN, amount__gt=0, held_change=0)
    | Q(kind__in=CREDITS_OUT, amount__lt=0, held_change=0)
    | Q(kind=EntryKind.HOLD, amount=0, held_change__gt=0)
    | Q(kind=EntryKind.CAPTURE, amount__lt=0, held_change=F("amount"))
    | Q(kind=EntryKind.RELEASE, amount=0, held_change__lt=0)
    | (Q(kind=EntryKind.ADJUSTMENT, held_change=0) & ~Q(amount=0))
)


class LedgerIsAppendOnly(Exception):
    """Raised by any attempt to change or remove a ledger entry."""


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be updated; post a new entry instead.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerIsAppendOnly("Ledger entries cannot be updated; post a new entry instead.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted; post a new entry instead.")


class LedgerEntry(models.Model):
    """One movement of credits. Never updated, never deleted (a database trigger agrees)."""

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    amount = models.BigIntegerField(help_text="Signed change to the balance.")
    held_change = models.BigIntegerField(default=0, help_text="Signed change to the held credits.")
    balance_after = models.BigIntegerField()
    held_after = models.BigIntegerField()
    idempotency_key = models.CharField(max_length=255, unique=True)
    hold = models.ForeignKey(
        "credits.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    generation_id = models.CharField(max_length=64, blank=True)
    stripe_object_id = models.CharField(max_length=255, blank=True)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.CharField(max_length=200, blank=True, help_text="Who posted it: a service, Stripe, staff.")
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="ledger_account_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=EntryKind.values), name="ledger_entry_kind_known"),
            models.CheckConstraint(condition=ENTRY_SHAPES, name="ledger_entry_shape_matches_kind"),
            models.CheckConstraint(condition=Q(held_after__gte=0), name="ledger_entry_held_not_negative"),
            # A hold never takes more than was available: the invariant behind `available >= 0`.
            models.CheckConstraint(
                condition=~Q(kind=EntryKind.HOLD) | Q(held_after__lte=F("balance_after")),
                name="ledger_hold_within_available",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d} ({self.idempotency_key})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger entries cannot be updated; post a new entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger entries cannot be deleted; post a new entry instead.")


class HoldStatus(models.TextChoices):
    OPEN = "open"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


class Hold(models.Model):
    """Credits reserved for one piece of work; captured (in part) or released exactly once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="holds")
    service = models.CharField(max_length=64, help_text="The service that placed it; only it may settle it.")
    amount = models.BigIntegerField()
    captured_amount = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=HoldStatus.choices, default=HoldStatus.OPEN)
    reason = models.CharField(max_length=200)
    generation_id = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "expires_at"], name="hold_open_by_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=HoldStatus.values), name="hold_status_known"),
            models.CheckConstraint(
                condition=(
                    Q(status=HoldStatus.CAPTURED, captured_amount__gte=0, captured_amount__lte=F("amount"))
                    | (~Q(status=HoldStatus.CAPTURED) & Q(captured_amount__isnull=True))
                ),
                name="hold_capture_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status=HoldStatus.OPEN, closed_at__isnull=True)
                | (~Q(status=HoldStatus.OPEN) & Q(closed_at__isnull=False)),
                name="hold_closed_when_settled",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.amount} ({self.status})"

    @property
    def released_amount(self) -> int:
        if self.status == HoldStatus.OPEN:
            return 0
        return self.amount - (self.captured_amount or 0)
