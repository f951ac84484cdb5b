"""Settings of the payments service: credit accounts, the ledger, holds, credit packs and Stripe."""

from django.core.exceptions import ImproperlyConfigured

from config import variables
from oasis_common import env
from oasis_common.conf import read
from oasis_common.service_settings import *  # noqa: F403

_production = env.is_production()

PAYMENTS = read(
    variables.PAYMENTS,
    defaults={
        "CHECKOUT_REDIRECT_ORIGINS": []
        if _production
        else ["http://localhost:8080", "http://localhost:3000", "http://localhost:5173"],
    },
)

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
