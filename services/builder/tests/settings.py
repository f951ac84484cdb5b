"""Settings for the builder test suite: throwaway state, test keys, PostgreSQL/Redis when configured."""

import os
import tempfile

os.environ.setdefault("OASIS_ENVIRONMENT", "test")
os.environ.setdefault("OASIS_VAR_DIR", tempfile.mkdtemp(prefix="oasis-builder-tests-"))

from config.settings import *  # noqa: F403
from config.settings import DATABASES, OASIS, OASIS_VAR_DIR
from oasis_common.testing import settings_for_tests

globals().update(settings_for_tests("builder"))

OASIS = {
    **OASIS,
    "JWKS_LOADER": "oasis_common.testing.jwks_for_tests",
    "PROJECTS_URL": "http://projects.test",
    "PAYMENTS_URL": "http://payments.test",
    "AUTH_URL": "http://auth.test",
    "SERVICE_CLIENT_SECRET": "builder-test-secret",
    "HTTP_RETRY_BACKOFF": 0,
    "HEARTBEAT_SECONDS": 0.05,
    "DELTA_FLUSH_SECONDS": 0.0,
    "SSE_POLL_SECONDS": 0.02,
    "SSE_HEARTBEAT_SECONDS": 0.2,
    "MODEL_TIMEOUT_SECONDS": 5.0,
    "MODEL_MAX_RETRIES": 2,
    # Redis pub/sub only when the suite runs against Redis.
    "REDIS_URL": os.environ.get("OASIS_TEST_REDIS_URL", ""),
}
# Runs execute in the test process; the worker's own tests use the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["generations"]}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in development: concurrency tests need real waiting on locks.
    DATABASES["default"]["TEST"] = {"NAME": str(OASIS_VAR_DIR / "builder" / "test-db.sqlite3")}
