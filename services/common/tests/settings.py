"""Settings for the oasis_common test suite: a service-shaped project around one small app."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Nothing the suite writes lands in the repository, and a developer's shell cannot make it production.
_var = tempfile.mkdtemp(prefix="oasis-common-tests-")
atexit.register(shutil.rmtree, _var, ignore_errors=True)
os.environ["OASIS_VAR_DIR"] = _var
os.environ["OASIS_ENVIRONMENT"] = "test"

from oasis_common.settings import common_settings  # noqa: E402
from oasis_common.testing import settings_for_tests  # noqa: E402

_settings = common_settings(
    service="projects", base_dir=Path(__file__).resolve().parent, apps=["tests.testapp"]
)
_settings.update(settings_for_tests("projects", database_name="oasis_common_lib"))
_database = _settings["DATABASES"]["default"]
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # A file rather than shared memory: the concurrency tests need SQLite's real locking.
    _database["TEST"] = {"NAME": str(Path(_var) / "test-oasis-common.sqlite3")}
_settings["OASIS"].update(
    {
        "JWKS_LOADER": "oasis_common.testing.jwks_for_tests",
        "AUTH_URL": "http://auth.test",
        "HTTP_RETRY_BACKOFF": 0,
    }
)
globals().update(_settings)

ROOT_URLCONF = "tests.urls"
PAYMENTS_URL = "http://payments.test"
