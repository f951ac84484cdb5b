"""What a purchase is worth in credits, given everything Stripe has said about it.

The webhook records facts (this session is paid, this much of its charge was refunded,
this dispute is open, won or lost); `payment_reconcile` then posts whatever the ledger
still lacks to match them. Posting the difference to a target, never a fixed amount per
event, is what makes duplicate and out-of-order deliveries end in the same balance.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from credits.accounts import account_lock
from credits.ledger import ledger_post
from credits.models import EntryKind
from purchases.models import CheckoutSession, CheckoutStatus, Dispute, DisputeOutcome, Payment


def purchase_fulfil(*, session: CheckoutSession, event_id: str) -> None:
    """Credit a paid session (once), then apply any refund or dispute that arrived before it.

    `session` is row-locked by the caller.
    """
    with transaction.atomic():
        if session.status != CheckoutStatus.PAID:
            account = account_lock(user_id=session.user_id)
            ledger_post(
                account=account,
                kind=EntryKind.PURCHASE,
                amount=session.credits,
                idempotency_key=f"purchase:{session.session_id}",
                stripe_object_id=session.session_id,
                stripe_event_id=event_id,
                reason=f"{session.pack_id} pack",
                actor="stripe",
            )
            session.status = CheckoutStatus.PAID
            session.paid_at = timezone.now()
            session.save(update_fields=["status", "paid_at", "updated_at"])
        if session.payment_intent_id:
            payment_reconcile(payment_intent_id=session.payment_intent_id, event_id=event_id)


def credits_for(session: CheckoutSession, money: int) -> int:
    """The credits bought with `money` of the session's price (rounded down; all of it is all)."""
    return session.credits * min(max(money, 0), session.amount_total) // session.amount_total


def payment_reconcile(*, payment_intent_id: str, event_id: str) -> None:
    """Post the refunds and disputes of a paid purchase that the ledger does not have yet.

    Before the purchase is paid there is nothing to take back: the facts wait, and
    `purchase_fulfil` calls this again once the credits are in.
    """
    with transaction.atomic():
        session = (
            CheckoutSession.objects.select_for_update()
            .filter(payment_intent_id=payment_intent_id, status=CheckoutStatus.PAID)
            .first()
        )
        if session is None:
            return
        account = account_lock(user_id=session.user_id)
        payment = Payment.objects.filter(payment_intent_id=payment_intent_id).first()

        refunded = credits_for(session, payment.amount_refunded) if payment else 0
        if refunded > session.refunded_credits:
            ledger_post(
                account=account,
                kind=EntryKind.REFUND,
                amount=-(refunded - session.refunded_credits),
                # The cumulative target names the step, so each step is posted once.
                idempotency_key=f"refund:{session.session_id}:{refunded}",
                stripe_object_id=payment.charge_id or payment_intent_id,
                stripe_event_id=event_id,
                reason=f"Refund of the {session.pack_id} pack",
                actor="stripe",
            )
            session.refunded_credits = refunded
            session.save(update_fields=["refunded_credits", "updated_at"])

        disputes = list(Dispute.objects.select_for_update().filter(payment_intent_id=payment_intent_id))
        for dispute in sorted(disputes, key=lambda dispute: dispute.pk):
            _dispute_apply(dispute, session=session, account=account, others=disputes, event_id=event_id)


def _dispute_apply(dispute: Dispute, *, session, account, others: list[Dispute], event_id: str) -> None:
    if dispute.credits_removed is None and dispute.outcome != DisputeOutcome.WON:
        # Never take back more than is left of the purchase after refunds and other disputes.
        taken = session.refunded_credits + sum(
            (other.credits_removed or 0) - other.credits_restored
            for other in others
            if other.pk != dispute.pk
        )
        credits = min(credits_for(session, dispute.amount), max(session.credits - taken, 0))
        if credits > 0:
            ledger_post(
                account=account,
                kind=EntryKind.DISPUTE,
                amount=-credits,
                idempotency_key=f"dispute:{dispute.dispute_id}",
                stripe_object_id=dispute.dispute_id,
                stripe_event_id=event_id,
                reason=f"Dispute on the {session.pack_id} pack",
                actor="stripe",
            )
        dispute.credits_removed = credits
        dispute.save(update_fields=["credits_removed", "updated_at"])
    if dispute.outcome == DisputeOutcome.WON and dispute.credits_removed and not dispute.credits_restored:
        ledger_post(
            account=account,
            kind=EntryKind.DISPUTE_REVERSAL,
            amount=dispute.credits_removed,
            idempotency_key=f"dispute_reversal:{dispute.dispute_id}",
            stripe_object_id=dispute.dispute_id,
            stripe_event_id=event_id,
            reason=f"Won dispute on the {session.pack_id} pack",
            actor="stripe",
        )
        dispute.credits_restored = dispute.credits_removed
        dispute.save(update_fields=["credits_restored", "updated_at"])
