"""Stripe's webhook: verify the signature, record each event once, and apply what it says.

The event row and its effect commit together: a duplicate delivery finds the row and
changes nothing, and a failure rolls both back and answers 5xx so Stripe sends it again.
"""

from __future__ import annotations

import logging
import uuid

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from purchases import fulfilment
from purchases.errors import InvalidSignature, MalformedEvent
from purchases.models import CheckoutSession, CheckoutStatus, Dispute, DisputeOutcome, Payment, StripeEvent
from purchases.stripe_api import payments_require_configured

logger = logging.getLogger("oasis.payments.webhooks")

# Closed disputes whose money stayed with us: the credits come back.
DISPUTE_KEPT = {"won", "warning_closed", "prevented"}


def stripe_event_receive(*, payload: bytes, signature: str) -> bool:
    """Verify and process one delivery; False when the event was already processed."""
    payments_require_configured()
    try:
        event = stripe.Webhook.construct_event(
            payload,
            signature,
            settings.PAYMENTS["STRIPE_WEBHOOK_SECRET"],
            tolerance=settings.PAYMENTS["STRIPE_WEBHOOK_TOLERANCE_SECONDS"],
        )
    except stripe.SignatureVerificationError as exc:
        raise InvalidSignature() from exc
    except ValueError as exc:
        # Not UTF-8 or not JSON, though correctly signed.
        raise MalformedEvent() from exc
    event = event.to_dict()
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise MalformedEvent()
    if not isinstance((event.get("data") or {}).get("object"), dict):
        raise MalformedEvent()
    return stripe_event_process(event=event)


def stripe_event_process(*, event: dict) -> bool:
    """Apply a verified event exactly once; False when its id was already processed."""
    obj = event["data"]["object"]
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(
                    event_id=event["id"],
                    type=event["type"][:100],
                    object_id=str(obj.get("id") or "")[:255],
                    livemode=bool(event.get("livemode")),
                )
        except IntegrityError:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is None:
            logger.info(
                "Acknowledged a Stripe event this service does not use", extra={"type": event["type"]}
            )
        else:
            handler(obj, event["id"])
    return True


def _id_of(value) -> str:
    """Stripe sends a related object as its id, or expanded as an object with an id."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _session_locked(obj: dict) -> CheckoutSession | None:
    """The session this event is about, locked; rebuilt from its metadata if we never stored it.

    A checkout request can fail after Stripe created the session (our database was briefly
    away): the customer may still pay it, and their credits must not be lost.
    """
    session = CheckoutSession.objects.select_for_update().filter(session_id=obj.get("id")).first()
    if session is not None:
        return session
    metadata = obj.get("metadata") or {}
    try:
        user_id = uuid.UUID(str(metadata["user_id"]))
        credits = int(metadata["credits"])
        amount_total = int(obj["amount_total"])
        pack_id = str(metadata["pack_id"])[:64]
    except (KeyError, TypeError, ValueError):
        logger.warning("Ignored a checkout session that this service did not create")
        return None
    if credits <= 0 or amount_total <= 0 or str(obj.get("client_reference_id")) != str(user_id):
        logger.warning("Ignored a checkout session whose metadata does not add up")
        return None
    CheckoutSession.objects.get_or_create(
        session_id=obj["id"],
        defaults={
            "user_id": user_id,
            "pack_id": pack_id,
            "credits": credits,
            "amount_total": amount_total,
            "currency": str(obj.get("currency") or "")[:3],
        },
    )
    return CheckoutSession.objects.select_for_update().get(session_id=obj["id"])


def _link_payment_intent(session: CheckoutSession, obj: dict) -> None:
    payment_intent_id = _id_of(obj.get("payment_intent"))
    if payment_intent_id and session.payment_intent_id != payment_intent_id:
        session.payment_intent_id = payment_intent_id
        session.save(update_fields=["payment_intent_id", "updated_at"])


def _payment_locked(payment_intent_id: str) -> Payment:
    """The payment intent's row, created if need be and locked until the event is applied.

    Every event about one payment takes this lock first, before the session and the
    account: they apply one after another, each seeing what the one before committed,
    and always in the same order, so they cannot deadlock.
    """
    payment, _ = Payment.objects.get_or_create(payment_intent_id=payment_intent_id)
    return Payment.objects.select_for_update().get(pk=payment.pk)


def _lock_payment_of(obj: dict) -> None:
    payment_intent_id = _id_of(obj.get("payment_intent"))
    if payment_intent_id:
        _payment_locked(payment_intent_id)


def on_session_completed(obj: dict, event_id: str) -> None:
    """Paid now (cards): credit it. Not yet (bank debits): wait for async_payment_succeeded."""
    _lock_payment_of(obj)
    session = _session_locked(obj)
    if session is None:
        return
    _link_payment_intent(session, obj)
    if obj.get("payment_status") == "paid":
        fulfilment.purchase_fulfil(session=session, event_id=event_id)
    elif session.status in (CheckoutStatus.OPEN, CheckoutStatus.EXPIRED):
        session.status = CheckoutStatus.AWAITING_PAYMENT
        session.save(update_fields=["status", "updated_at"])


def on_async_payment_succeeded(obj: dict, event_id: str) -> None:
    _lock_payment_of(obj)
    session = _session_locked(obj)
    if session is None:
        return
    _link_payment_intent(session, obj)
    fulfilment.purchase_fulfil(session=session, event_id=event_id)


def on_async_payment_failed(obj: dict, event_id: str) -> None:
    session = _session_locked(obj)
    if session is not None and session.status != CheckoutStatus.PAID:
        session.status = CheckoutStatus.FAILED
        session.save(update_fields=["status", "updated_at"])


def on_session_expired(obj: dict, event_id: str) -> None:
    session = _session_locked(obj)
    if session is not None and session.status == CheckoutStatus.OPEN:
        session.status = CheckoutStatus.EXPIRED
        session.save(update_fields=["status", "updated_at"])


def on_charge_refunded(obj: dict, event_id: str) -> None:
    """Record the charge's refunded total (the highest seen wins), then take back its share."""
    payment_intent_id = _id_of(obj.get("payment_intent"))
    if not payment_intent_id:
        return
    payment = _payment_locked(payment_intent_id)
    refunded = int(obj.get("amount_refunded") or 0)
    if refunded > payment.amount_refunded or not payment.charge_id:
        payment.amount_refunded = max(refunded, payment.amount_refunded)
        payment.charge_id = _id_of(obj.get("id"))
        payment.save(update_fields=["amount_refunded", "charge_id", "updated_at"])
    fulfilment.payment_reconcile(payment_intent_id=payment_intent_id, event_id=event_id)


def _dispute_payment_intent(obj: dict) -> str:
    payment_intent_id = _id_of(obj.get("payment_intent"))
    if payment_intent_id:
        return payment_intent_id
    charge_id = _id_of(obj.get("charge"))
    payment = Payment.objects.filter(charge_id=charge_id).first() if charge_id else None
    return payment.payment_intent_id if payment else ""


def _dispute_record(obj: dict, *, outcome: DisputeOutcome | None) -> str:
    """Create or update the dispute row; an outcome, once known, is never reopened."""
    payment_intent_id = _dispute_payment_intent(obj)
    dispute_id = _id_of(obj.get("id"))
    if not payment_intent_id or not dispute_id:
        logger.warning("Ignored a dispute that names no payment intent")
        return ""
    _payment_locked(payment_intent_id)
    dispute, _ = Dispute.objects.get_or_create(
        dispute_id=dispute_id, defaults={"payment_intent_id": payment_intent_id}
    )
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    dispute.charge_id = _id_of(obj.get("charge"))
    dispute.amount = int(obj.get("amount") or 0)
    if outcome is not None or dispute.outcome == DisputeOutcome.OPEN:
        # A late `created` must not overwrite the final status a `closed` already recorded.
        dispute.stripe_status = str(obj.get("status") or "")[:40]
    if outcome is not None:
        dispute.outcome = outcome
    dispute.save()
    return payment_intent_id


def on_dispute_created(obj: dict, event_id: str) -> None:
    payment_intent_id = _dispute_record(obj, outcome=None)
    if payment_intent_id:
        fulfilment.payment_reconcile(payment_intent_id=payment_intent_id, event_id=event_id)


def on_dispute_closed(obj: dict, event_id: str) -> None:
    outcome = DisputeOutcome.WON if obj.get("status") in DISPUTE_KEPT else DisputeOutcome.LOST
    payment_intent_id = _dispute_record(obj, outcome=outcome)
    if payment_intent_id:
        fulfilment.payment_reconcile(payment_intent_id=payment_intent_id, event_id=event_id)


HANDLERS = {
    "checkout.session.completed": on_session_completed,
    "checkout.session.async_payment_succeeded": on_async_payment_succeeded,
    "checkout.session.async_payment_failed": on_async_payment_failed,
    "checkout.session.expired": on_session_expired,
    "charge.refunded": on_charge_refunded,
    "charge.dispute.created": on_dispute_created,
    "charge.dispute.closed": on_dispute_closed,
}
