"""Settings of the payments service: credit accounts, the ledger, holds, credit packs and Stripe."""

import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common import env
from oasis_common.settings import common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="payments", base_dir=BASE_DIR, apps=["credits", "purchases"]))

_production = env.is_production()


def _non_negative(name: str, default: int) -> int:
    value = env.get_int(name, default)
    if value < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {value}")
    return value


def _positive(name: str, default: int) -> int:
    value = env.get_int(name, default)
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {value}")
    return value


def _credit_packs() -> list | None:
    """OASIS_CREDIT_PACKS as JSON (a list of packs), or None for the built-in packs.

    purchases.packs validates the shape when the app loads, so a bad value stops the start.
    """
    raw = env.get_str("OASIS_CREDIT_PACKS")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"OASIS_CREDIT_PACKS must be JSON: {exc}") from exc


PAYMENTS = {
    "WELCOME_CREDITS": _non_negative("OASIS_WELCOME_CREDITS", 2000),
    "HOLD_TTL_SECONDS": _positive("OASIS_HOLD_TTL_SECONDS", 1800),
    "HOLD_MAX_TTL_SECONDS": _positive("OASIS_HOLD_MAX_TTL_SECONDS", 86400),
    "CREDIT_PACKS": _credit_packs(),
    "CHECKOUT_REDIRECT_ORIGINS": env.get_list(
        "OASIS_CHECKOUT_REDIRECT_ORIGINS",
        [] if _production else ["http://localhost:8080", "http://localhost:3000", "http://localhost:5173"],
    ),
    "STRIPE_SECRET_KEY": env.get_str("STRIPE_SECRET_KEY"),
    "STRIPE_WEBHOOK_SECRET": env.get_str("STRIPE_WEBHOOK_SECRET"),
    "STRIPE_WEBHOOK_TOLERANCE_SECONDS": _positive("OASIS_STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300),
    # Stripe's own API unless pointed elsewhere (stripe-mock, or a fake in the end-to-end tests).
    "STRIPE_API_BASE": env.get_str("OASIS_STRIPE_API_BASE", "https://api.stripe.com").rstrip("/"),
    "STRIPE_CONNECT_TIMEOUT": env.get_float("OASIS_STRIPE_CONNECT_TIMEOUT", 5.0),
    "STRIPE_READ_TIMEOUT": env.get_float("OASIS_STRIPE_READ_TIMEOUT", 30.0),
    "STRIPE_MAX_NETWORK_RETRIES": _non_negative("OASIS_STRIPE_MAX_NETWORK_RETRIES", 2),
}

if _production:
    _stripe = [PAYMENTS["STRIPE_SECRET_KEY"], PAYMENTS["STRIPE_WEBHOOK_SECRET"]]
    # Half a configuration takes money without granting credits (or the reverse): refuse it.
    # Neither is fine: checkout and the webhook answer 503 payments_unavailable.
    if any(_stripe) and not all(_stripe):
        raise ImproperlyConfigured("Set both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or neither")
    if all(_stripe) and not PAYMENTS["CHECKOUT_REDIRECT_ORIGINS"]:
        raise ImproperlyConfigured(
            "Set OASIS_CHECKOUT_REDIRECT_ORIGINS (comma-separated origins checkout may return to)"
        )
