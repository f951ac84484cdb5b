"""Checkout: a Stripe Checkout Session for a credit pack, returning only to allowed origins."""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import UTC, datetime

from purchases.errors import CheckoutNotFound, PaymentProviderUnavailable
from purchases.models import CheckoutSession
from purchases.packs import Pack
from purchases.return_urls import return_url_check
from purchases.stripe_api import payments_require_configured, stripe_client, stripe_request

logger = logging.getLogger("oasis.payments.checkout")


def checkout_create(
    *, user_id, pack: Pack, success_url: str, cancel_url: str, request_key: str = ""
) -> CheckoutSession:
    """Open a Stripe Checkout Session for `pack`; the webhook credits it once it is paid.

    `request_key` (the caller's Idempotency-Key) makes a retried request return the same
    session: Stripe answers a repeated idempotency key with its first answer.
    """
    payments_require_configured()
    # After the availability check: the allowed origins are configured with the Stripe keys,
    # and without them "payments are not available" is the truer answer.
    return_url_check(field="success_url", url=success_url)
    return_url_check(field="cancel_url", url=cancel_url)
    metadata = {"user_id": str(user_id), "pack_id": pack.id, "credits": str(pack.credits)}
    params = {
        "mode": "payment",
        "client_reference_id": str(user_id),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": pack.currency,
                    "unit_amount": pack.price,
                    "product_data": {
                        "name": f"{pack.name} credit pack",
                        "description": f"{pack.credits:,} Imagi Oasis credits",
                    },
                },
            }
        ],
        "metadata": metadata,
        # Charges, refunds and disputes carry the payment intent's metadata, not the session's.
        "payment_intent_data": {"metadata": metadata},
    }
    # Hashed: any key the caller sends fits Stripe's 255 printable characters.
    suffix = hashlib.sha256(request_key.encode()).hexdigest() if request_key else uuid.uuid4().hex
    key = f"checkout:{user_id}:{suffix}"
    with stripe_request("creating a checkout session"):
        session = stripe_client().v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    session = session.to_dict()
    if not isinstance(session.get("id"), str) or not isinstance(session.get("url"), str):
        logger.error("Stripe answered a checkout session without its id or url")
        raise PaymentProviderUnavailable()
    expires_at = session.get("expires_at")
    checkout, _ = CheckoutSession.objects.get_or_create(
        session_id=session["id"],
        defaults={
            "user_id": user_id,
            "pack_id": pack.id,
            "credits": pack.credits,
            "amount_total": pack.price,
            "currency": pack.currency,
            "url": session["url"],
            "expires_at": datetime.fromtimestamp(expires_at, tz=UTC) if isinstance(expires_at, int) else None,
        },
    )
    return checkout


def checkout_get(*, user_id, session_id: str) -> CheckoutSession:
    """The user's own checkout session; anyone else's does not exist for them."""
    checkout = CheckoutSession.objects.filter(user_id=user_id, session_id=session_id).first()
    if checkout is None:
        raise CheckoutNotFound()
    return checkout
