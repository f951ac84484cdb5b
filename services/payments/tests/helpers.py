"""Helpers the payments tests share: error bodies, holds, threads, and Stripe's side of the wire."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

from rest_framework.test import APIClient

from credits.models import CreditAccount
from oasis_common import testing
from oasis_common.testing import error_of as error_of  # the platform's strict check, shared by the suite

WEBHOOK_SECRET = "whsec_test_secret_for_the_suite"
STRIPE_KEY = "sk_test_suite_key"
WEBHOOK_URL = "/api/v1/payments/webhooks/stripe/"
HOLDS_URL = "/internal/v1/holds"


def account_of(user_id) -> CreditAccount:
    return CreditAccount.objects.get(user_id=user_id)


def totals_of(user_id) -> tuple[int, int]:
    """(balance, held) of the user's account."""
    account = account_of(user_id)
    return account.balance, account.held


def place_hold(client: APIClient, user_id, amount: int, *, key: str | None = None, **fields):
    body = {"user_id": str(user_id), "amount": amount, "reason": "generation", **fields}
    return client.post(HOLDS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def settle(client: APIClient, hold_id, action: str, *, key: str | None = None, **body):
    return client.post(
        f"{HOLDS_URL}/{hold_id}/{action}", body, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex
    )


def run_concurrently(count: int, action) -> list:
    """oasis_common's, re-raising what a thread hit: a payments race must not hide an error."""
    return testing.run_concurrently(count, action, timeout=30, raise_errors=True)


# ---- Stripe ----


def stripe_signature(payload: str, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The Stripe-Signature header exactly as Stripe computes it: HMAC-SHA256 of "<t>.<body>"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(event_type: str, obj: dict, *, event_id: str | None = None) -> dict:
    """An event envelope shaped like the ones Stripe delivers."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def deliver(client: APIClient, event: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    """POST the event to the webhook, signed as Stripe would sign it."""
    payload = json.dumps(event)
    return client.generic(
        "POST",
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, secret=secret, timestamp=timestamp),
    )


def session_object(
    session_id: str,
    user_id,
    *,
    payment_status: str = "paid",
    payment_intent: str | None = "pi_test_1",
    pack_id: str = "starter",
    credits: int = 10_000,
    amount_total: int = 1_000,
) -> dict:
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount_total,
        "client_reference_id": str(user_id),
        "currency": "usd",
        "metadata": {"user_id": str(user_id), "pack_id": pack_id, "credits": str(credits)},
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_status": payment_status,
        "status": "complete",
    }


def charge_object(payment_intent: str, *, amount: int = 1_000, amount_refunded: int = 0) -> dict:
    return {
        "id": f"ch_for_{payment_intent}",
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "currency": "usd",
        "payment_intent": payment_intent,
        "refunded": amount_refunded >= amount,
    }


def dispute_object(dispute_id: str, payment_intent: str, *, amount: int = 1_000, status: str) -> dict:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "charge": f"ch_for_{payment_intent}",
        "currency": "usd",
        "payment_intent": payment_intent,
        "status": status,
    }
