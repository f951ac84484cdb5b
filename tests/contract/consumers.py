"""The consumers' real client code in this process: the builder's settings, its peers pointed at a mock.

`generations.peers` (the builder's calls to projects and payments) and
`oasis_common.client` / `oasis_common.authentication` (every service's calls to auth)
read their peers' URLs from Django settings; the tests point them at Pact's mock server.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from tests.contract import examples

REPO = Path(__file__).resolve().parents[2]


def configure() -> None:
    """Set Django up with the builder's own settings (test environment, no retries, no database use)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    for folder in ("common", "builder"):
        path = str(REPO / "services" / folder)
        if path not in sys.path:
            sys.path.insert(0, path)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "OASIS_ENVIRONMENT": "test",
            "OASIS_VAR_DIR": tempfile.mkdtemp(prefix="oasis-contract-"),
            "OASIS_SERVICE_CLIENT_SECRET": examples.BUILDER_CLIENT_SECRET,
            # A mismatch answers 500; retrying it would only repeat the mismatch.
            "OASIS_HTTP_RETRIES": "0",
        }
    )
    django.setup()


@contextmanager
def peers_at(**urls: str):
    """Point the builder's peers (`projects=`, `payments=`, `auth=`) at these base URLs."""
    from django.test import override_settings

    from generations import peers

    names = {"projects": "PROJECTS_URL", "payments": "PAYMENTS_URL", "auth": "AUTH_URL"}
    oasis = {**_settings().OASIS, **{names[peer]: url for peer, url in urls.items()}}
    peers.projects.cache_clear()
    peers.payments.cache_clear()
    try:
        with override_settings(OASIS=oasis):
            yield
    finally:
        peers.projects.cache_clear()
        peers.payments.cache_clear()


def _settings():
    from django.conf import settings

    return settings
