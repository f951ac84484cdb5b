"""The one place that talks to Stripe: a configured client, and whether there is one at all."""

from __future__ import annotations

import logging
from functools import lru_cache

import stripe
from django.conf import settings

from purchases.errors import PaymentsUnavailable

logger = logging.getLogger("oasis.payments.stripe")

REQUIRED = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")


def payments_missing_settings() -> list[str]:
    """The Stripe settings that are not set; payments are available when there are none."""
    return [name for name in REQUIRED if not settings.PAYMENTS[name]]


def payments_available() -> bool:
    return not payments_missing_settings()


def payments_require_configured() -> None:
    """Raise PaymentsUnavailable (503) unless both Stripe keys are set.

    The operator reads which settings are missing in the log, beside the request id;
    the person who asked is told only that payments are not available.
    """
    missing = payments_missing_settings()
    if missing:
        logger.warning(
            "Payments are unavailable: %s not set", " and ".join(missing), extra={"missing": missing}
        )
        raise PaymentsUnavailable()


def stripe_client() -> stripe.StripeClient:
    config = settings.PAYMENTS
    return _client(
        config["STRIPE_SECRET_KEY"],
        config["STRIPE_API_BASE"],
        config["STRIPE_CONNECT_TIMEOUT"],
        config["STRIPE_READ_TIMEOUT"],
        config["STRIPE_MAX_NETWORK_RETRIES"],
    )


@lru_cache(maxsize=4)
def _client(api_key: str, api_base: str, connect: float, read: float, retries: int) -> stripe.StripeClient:
    # One client per configuration, so its connection pool is reused across requests. The SDK
    # retries only what is safe: every POST it sends here carries an Idempotency-Key.
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=(connect, read)),
    )
