"""Settings for the payments test suite: throwaway keys and state, PostgreSQL/Redis when configured."""

import os
import tempfile

os.environ.setdefault("OASIS_ENVIRONMENT", "test")
os.environ.setdefault("OASIS_VAR_DIR", tempfile.mkdtemp(prefix="oasis-payments-tests-"))

from config.settings import *  # noqa: F403
from config.settings import DATABASES, OASIS, OASIS_VAR_DIR, PAYMENTS
from oasis_common.testing import settings_for_tests

globals().update(settings_for_tests("payments"))

OASIS = {**OASIS, "JWKS_LOADER": "oasis_common.testing.jwks_for_tests"}

# No Stripe keys unless a test configures them, as in a fresh checkout; and no waiting on
# retries when a test makes Stripe fail.
PAYMENTS = {
    **PAYMENTS,
    "STRIPE_SECRET_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_API_BASE": "https://api.stripe.com",
    "STRIPE_MAX_NETWORK_RETRIES": 0,
    "CREDIT_PACKS": None,
    "WELCOME_CREDITS": 2000,
    "CHECKOUT_REDIRECT_ORIGINS": ["https://app.example.com"],
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in development, rather than SQLite's shared in-memory database: that one
    # answers concurrent writers with "table is locked" at once instead of waiting its turn,
    # so the concurrency tests could not run on it.
    DATABASES["default"]["TEST"] = {"NAME": str(OASIS_VAR_DIR / "payments" / "test-db.sqlite3")}
