"""Settings for the auth test suite: throwaway keys and state, PostgreSQL/Redis when configured."""

import os
import tempfile

os.environ.setdefault("OASIS_ENVIRONMENT", "test")
os.environ.setdefault("OASIS_VAR_DIR", tempfile.mkdtemp(prefix="oasis-auth-tests-"))

from config.settings import *  # noqa: F403
from config.settings import DATABASES, OASIS_VAR_DIR
from oasis_common.testing import settings_for_tests

globals().update(settings_for_tests("auth"))

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, as in development, rather than SQLite's shared in-memory database: that one
    # answers concurrent writers with "table is locked" at once instead of waiting its turn,
    # so the concurrency tests could not run on it.
    DATABASES["default"]["TEST"] = {"NAME": str(OASIS_VAR_DIR / "auth" / "test-db.sqlite3")}

# Tasks run inside the request that enqueues them, so the suite sees their effects at once
# (the queue and its worker are configured in config/settings.py and run in tests/e2e).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["emails"]}}
