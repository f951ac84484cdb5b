"""Purchases through Stripe: checkout sessions, what Stripe said about their payments, and its events.

Credits move only through the ledger (credits.ledger); these rows remember what Stripe
reported so that every event, in any order and any number of times, converges on the
same ledger: a session is credited once when paid, refunds remove credits in proportion
to the refunded amount, disputes remove credits and a won dispute gives them back.
"""

from django.db import models
from django.db.models import F, Q


class CheckoutStatus(models.TextChoices):
    OPEN = "open"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"


class CheckoutSession(models.Model):
    """A Stripe Checkout Session for one credit pack; credited once, when Stripe says it is paid."""

    session_id = models.CharField(max_length=255, unique=True)
    user_id = models.UUIDField()
    pack_id = models.CharField(max_length=64)
    credits = models.BigIntegerField()
    amount_total = models.BigIntegerField(help_text="The price, in the currency's smallest unit.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN)
    url = models.TextField(blank=True)
    # Recorded at completion: refunds and disputes name the payment intent, not the session.
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    refunded_credits = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user_id", "-created_at"], name="checkout_user_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="checkout_credits_positive"),
            models.CheckConstraint(condition=Q(amount_total__gt=0), name="checkout_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_credits__gte=0, refunded_credits__lte=F("credits")),
                name="checkout_refund_within_credits",
            ),
            models.CheckConstraint(
                condition=Q(status__in=CheckoutStatus.values), name="checkout_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.status})"


class Payment(models.Model):
    """The refunded total Stripe last reported for one payment intent (kept at its highest)."""

    payment_intent_id = models.CharField(max_length=255, unique=True)
    charge_id = models.CharField(max_length=255, blank=True)
    amount_refunded = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.payment_intent_id} (refunded {self.amount_refunded})"


class DisputeOutcome(models.TextChoices):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class Dispute(models.Model):
    """A chargeback: its credits leave the account while it is open or lost, and come back if won."""

    dispute_id = models.CharField(max_length=255, unique=True)
    payment_intent_id = models.CharField(max_length=255, db_index=True)
    charge_id = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(default=0, help_text="Disputed, in the currency's smallest unit.")
    outcome = models.CharField(max_length=10, choices=DisputeOutcome.choices, default=DisputeOutcome.OPEN)
    stripe_status = models.CharField(max_length=40, blank=True)
    # None until the removal is posted (or found unnecessary because the dispute was won first).
    credits_removed = models.BigIntegerField(null=True, blank=True)
    credits_restored = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_restored__gte=0, credits_restored__lte=F("credits_removed"))
                | Q(credits_restored=0),
                name="dispute_restores_at_most_removed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id} ({self.outcome})"


class StripeEvent(models.Model):
    """Each Stripe event processed, stored in the same transaction as its effect: one effect per id."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
