"""Settings for the sites test suite: throwaway keys, state and store, PostgreSQL/Redis when configured."""

import os
import tempfile

os.environ.setdefault("OASIS_ENVIRONMENT", "test")
os.environ.setdefault("OASIS_VAR_DIR", tempfile.mkdtemp(prefix="oasis-sites-tests-"))

from config.settings import *  # noqa: F403
from config.settings import DATABASES, OASIS, OASIS_VAR_DIR, SITES
from oasis_common.testing import settings_for_tests

globals().update(settings_for_tests("sites"))

OASIS = {
    **OASIS,
    "JWKS_LOADER": "oasis_common.testing.jwks_for_tests",
    "PROJECTS_URL": "http://projects.test",
    "AUTH_URL": "http://auth.test",
    "SERVICE_CLIENT_SECRET": "sites-test-secret",
    "HTTP_RETRY_BACKOFF": 0,
}
SITES = {
    **SITES,
    "DOMAIN": "sites.example.com",
    "PUBLIC_URL": "https://oasis.example.com",
    "SITE_SCHEME": "https",
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in development, rather than SQLite's shared in-memory database: that one
    # answers concurrent writers with "table is locked" at once instead of waiting its turn,
    # so the concurrency tests could not run on it.
    DATABASES["default"]["TEST"] = {"NAME": str(OASIS_VAR_DIR / "sites" / "test-db.sqlite3")}
