"""The platform library's settings, read through one namespaced object: `settings.OASIS`."""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS = {
    "SERVICE_NAME": "",
    "AUTH_URL": "http://127.0.0.1:8001",
    "JWKS_URL": "",
    "JWKS_FILE": "",
    "JWKS_LOADER": "",
    "JWT_ISSUER": "imagi-oasis",
    "JWT_AUDIENCE": "oasis-api",
    "JWT_LEEWAY_SECONDS": 5,
    "JWKS_REFETCH_INTERVAL_SECONDS": 30,
    "JWKS_MAX_AGE_SECONDS": 3600,
    "SERVICE_CLIENT_ID": "",
    "SERVICE_CLIENT_SECRET": "",
    "HTTP_CONNECT_TIMEOUT": 2.0,
    "HTTP_READ_TIMEOUT": 10.0,
    "HTTP_RETRIES": 2,
    "HTTP_POOL_SIZE": 100,
    "HTTP_RETRY_BACKOFF": 0.2,
    "READY_PEERS": [],
    "IDEMPOTENCY_RETENTION_HOURS": 48,
    "PROVIDER_STATES": False,
    # File path rules shared by projects (which stores files) and the builder (whose models name them).
    "MAX_PATH_BYTES": 512,
    "MAX_PATH_DEPTH": 32,
    "MAX_SEGMENT_BYTES": 255,
    # Peers whose X-Forwarded-Host and -Proto are believed: services are reachable only inside the
    # deployment, through the gateway, so loopback and private networks.
    "TRUSTED_PROXIES": [
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
    ],
}


class OasisSettings:
    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown OASIS setting {name!r}")
        return getattr(settings, "OASIS", {}).get(name, DEFAULTS[name])


oasis_settings = OasisSettings()


def _reset_on_change(*, setting, **kwargs) -> None:
    if setting == "OASIS":
        from oasis_common import authentication, client

        authentication.reset_key_store()
        client.reset_token_cache()


setting_changed.connect(_reset_on_change)
