"""The payments service's settings, `settings.PAYMENTS`: one table, read by config/settings.py."""

import json

from django.core.exceptions import ImproperlyConfigured

from oasis_common.conf import Setting, non_negative, positive, url


def credit_packs(setting: Setting, raw: str | None) -> list | None:
    """The packs as JSON (a list of packs), or None for the built-in packs.

    purchases.packs validates the shape when the app loads, so a bad value stops the start.
    """
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{setting.env_var} must be JSON: {exc}") from exc


PAYMENTS = (
    Setting(
        "WELCOME_CREDITS", "OASIS_WELCOME_CREDITS", 2000, int, "granted to a new account", clean=non_negative
    ),
    Setting(
        "HOLD_TTL_SECONDS", "OASIS_HOLD_TTL_SECONDS", 1800, int, "a hold's default lifetime", clean=positive
    ),
    Setting("HOLD_MAX_TTL_SECONDS", "OASIS_HOLD_MAX_TTL_SECONDS", 86400, int, clean=positive),
    Setting("CREDIT_PACKS", "OASIS_CREDIT_PACKS", None, help="JSON list of packs", clean=credit_packs),
    Setting(
        "CHECKOUT_REDIRECT_ORIGINS",
        "OASIS_CHECKOUT_REDIRECT_ORIGINS",
        [],
        list,
        "origins checkout may return to",
        derived="development: http://localhost:8080,3000,5173; production: empty",
    ),
    Setting("STRIPE_SECRET_KEY", "STRIPE_SECRET_KEY", ""),
    Setting("STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET", ""),
    Setting(
        "STRIPE_WEBHOOK_TOLERANCE_SECONDS",
        "OASIS_STRIPE_WEBHOOK_TOLERANCE_SECONDS",
        300,
        int,
        clean=positive,
    ),
    # Stripe's own API unless pointed elsewhere (stripe-mock, or a fake in the end-to-end tests).
    Setting("STRIPE_API_BASE", "OASIS_STRIPE_API_BASE", "https://api.stripe.com", clean=url),
    Setting("STRIPE_CONNECT_TIMEOUT", "OASIS_STRIPE_CONNECT_TIMEOUT", 5.0, float, "seconds"),
    Setting("STRIPE_READ_TIMEOUT", "OASIS_STRIPE_READ_TIMEOUT", 30.0, float, "seconds"),
    Setting("STRIPE_MAX_NETWORK_RETRIES", "OASIS_STRIPE_MAX_NETWORK_RETRIES", 2, int, clean=non_negative),
)
