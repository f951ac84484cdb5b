"""Settings for the auth test suite: throwaway keys and state, PostgreSQL/Redis when configured."""

import os
import tempfile

os.environ.setdefault("OASIS_ENVIRONMENT", "test")
os.environ.setdefault("OASIS_VAR_DIR", tempfile.mkdtemp(prefix="oasis-auth-tests-"))

from config.settings import *  # noqa: F403
from oasis_common.testing import settings_for_tests

globals().update(settings_for_tests("auth"))
OASIS_SEND_EMAIL_INLINE = True
