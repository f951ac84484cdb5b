"""The one place that talks to Stripe: a configured client, whether there is one, and its failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import stripe
from django.conf import settings

from oasis_common.errors import ServiceError
from purchases.errors import (
    IdempotencyKeyReused,
    PaymentDeclined,
    PaymentProviderError,
    PaymentProviderUnavailable,
    PaymentsUnavailable,
)

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


# Only these heal by waiting: the network, Stripe's rate limit, and Stripe's own 5xx (or an
# answer it could not parse). The SDK picks the class from Stripe's status and error type.
TEMPORARY = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


def _meaning(exc: stripe.StripeError) -> tuple[int, ServiceError]:
    """The log level and the person's error for a Stripe failure."""
    if isinstance(exc, TEMPORARY):
        return logging.WARNING, PaymentProviderUnavailable()
    if isinstance(exc, stripe.IdempotencyError):
        return logging.INFO, IdempotencyKeyReused()
    if isinstance(exc, stripe.CardError):
        return logging.INFO, PaymentDeclined()
    # An invalid request, an unknown object, a bad key, a missing permission, and whatever else
    # Stripe refuses for good: ours to fix, and never worth the buyer's retry.
    return logging.ERROR, PaymentProviderError()


def stripe_error_translate(exc: stripe.StripeError, *, action: str) -> ServiceError:
    """The error the person sees for a Stripe failure; what the operator needs goes to the log."""
    level, error = _meaning(exc)
    logger.log(
        level,
        "Stripe %s %s: %s (request %s)",
        "failed" if isinstance(error, PaymentProviderUnavailable) else "refused",
        action,
        exc.__class__.__name__,
        exc.request_id or "none",
        extra={
            "stripe_action": action,
            "stripe_error": exc.__class__.__name__,
            "stripe_request_id": exc.request_id,
            "stripe_status": exc.http_status,
            "stripe_type": getattr(exc.error, "type", None),
            "stripe_code": exc.code or getattr(exc.error, "code", None),
            "stripe_message": exc.user_message,
            # Stripe masks keys in its messages, so its body is safe to keep for the rest of the story.
            "stripe_body": (exc.http_body or "")[:2000],
        },
    )
    return error


@contextmanager
def stripe_request(action: str) -> Iterator[None]:
    """Run calls to Stripe's API, raising the error the person should see if one fails."""
    try:
        yield
    except stripe.StripeError as exc:
        raise stripe_error_translate(exc, action=action) from exc
