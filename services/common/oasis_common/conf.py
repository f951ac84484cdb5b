"""The platform library's settings: one table of them, read from the environment by `read`, and
read by the library through one namespaced object with defaults, `oasis_settings`."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from oasis_common import env

# Where each process listens in development: the services' default peer URLs, and the table
# `make dev` checks, wires and announces (scripts/ports.py, where OASIS_DEV_PORT_BASE
# or one OASIS_<NAME>_PORT per process moves them).
DEFAULT_PORTS = {
    "auth": 8001,
    "projects": 8002,
    "payments": 8003,
    "builder": 8004,
    "sites": 8005,
    "gateway": 8080,
    "demo-model": 8090,
}


@dataclass(frozen=True)
class Setting:
    """One key of a settings namespace (`settings.OASIS`, a service's `PAYMENTS` or `SITES`).

    `env_var` sets it (None: only code sets it); `kind` parses the variable (str, int, float,
    bool, list, dict); `clean(setting, value)` checks or converts what was read, raising
    ImproperlyConfigured. `derived` says, for docs/operations.md, what the default is when it is
    only known at start (the service's name, the production switch, another setting): the
    caller passes it to `read`, and `default` is the library's fallback.
    """

    name: str
    env_var: str | None
    default: Any
    kind: type = str
    help: str = ""
    clean: Callable[[Setting, Any], Any] | None = None
    derived: str = ""


def _read_mapping(name: str, default: dict) -> dict:
    return env.get_mapping(name) or default


READERS: dict[type, Callable[[str, Any], Any]] = {
    str: env.get_str,
    int: env.get_int,
    float: env.get_float,
    bool: env.get_bool,
    list: env.get_list,
    dict: _read_mapping,
}


def read(table: Iterable[Setting], *, defaults: Mapping[str, Any] | None = None) -> dict:
    """The value of each setting of `table` that a variable sets, by key.

    Unset (or blank) variables give the default: the one in `defaults` where the caller knows it
    only at start, else the table's.
    """
    defaults = defaults or {}
    values = {}
    for setting in table:
        if setting.env_var is None:
            continue
        value = READERS[setting.kind](setting.env_var, defaults.get(setting.name, setting.default))
        values[setting.name] = setting.clean(setting, value) if setting.clean else value
    return values


# Checks and conversions the tables share.


def url(setting: Setting, value: str) -> str:
    """A base URL, without the trailing slash paths are appended after."""
    return value.rstrip("/")


def positive(setting: Setting, value: int) -> int:
    if value <= 0:
        raise ImproperlyConfigured(f"{setting.env_var} must be positive, not {value}")
    return value


def non_negative(setting: Setting, value: int) -> int:
    if value < 0:
        raise ImproperlyConfigured(f"{setting.env_var} must not be negative, not {value}")
    return value


def networks(setting: Setting, value: list[str]) -> list[str]:
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{setting.env_var} holds addresses or networks such as 10.0.0.0/8, not {network!r}"
            ) from None
    return value


def not_in_production(setting: Setting, value: bool) -> bool:
    if value and env.is_production():
        raise ImproperlyConfigured(f"{setting.env_var} is for contract tests, never for production")
    return value


def peer(service: str) -> Setting:
    """The base URL of a peer service, `<NAME>_URL` from `OASIS_<NAME>_URL`."""
    key = f"{service.upper()}_URL"
    default = f"http://127.0.0.1:{DEFAULT_PORTS[service]}"
    return Setting(key, f"OASIS_{key}", default, str, f"the {service} service", clean=url)


PLATFORM = (
    Setting("SERVICE_NAME", None, "", help="the service's name, set from its config package"),
    peer("auth"),
    Setting(
        "JWKS_URL",
        "OASIS_JWKS_URL",
        "",
        help="where public keys come from",
        derived="OASIS_AUTH_URL + /api/v1/auth/.well-known/jwks.json",
    ),
    Setting("JWKS_FILE", "OASIS_JWKS_FILE", "", help="a JWKS file instead of the URL"),
    Setting("JWKS_LOADER", None, "", help="a function returning the JWKS (auth, tests)"),
    Setting("JWT_ISSUER", "OASIS_JWT_ISSUER", "imagi-oasis", help="`iss` of every token"),
    Setting("JWT_AUDIENCE", "OASIS_JWT_AUDIENCE", "oasis-api", help="`aud` of user tokens"),
    Setting("JWT_LEEWAY_SECONDS", "OASIS_JWT_LEEWAY_SECONDS", 5, int, "clock skew tolerated"),
    Setting(
        "JWKS_REFETCH_INTERVAL_SECONDS",
        "OASIS_JWKS_REFETCH_INTERVAL",
        30,
        int,
        "seconds between refetches for an unknown `kid`",
    ),
    Setting(
        "JWKS_MAX_AGE_SECONDS", "OASIS_JWKS_MAX_AGE", 3600, int, "seconds before the key set is refreshed"
    ),
    Setting(
        "SERVICE_CLIENT_ID",
        "OASIS_SERVICE_CLIENT_ID",
        "",
        help="its client id at auth",
        derived="the service's name",
    ),
    Setting(
        "SERVICE_CLIENT_SECRET",
        "OASIS_SERVICE_CLIENT_SECRET",
        "",
        help="its secret for service tokens",
        derived="generated in development",
    ),
    Setting("HTTP_CONNECT_TIMEOUT", "OASIS_HTTP_CONNECT_TIMEOUT", 2.0, float, "seconds, calls to peers"),
    Setting("HTTP_READ_TIMEOUT", "OASIS_HTTP_READ_TIMEOUT", 10.0, float, "seconds, calls to peers"),
    Setting("HTTP_RETRIES", "OASIS_HTTP_RETRIES", 2, int, "retries of safe calls to peers"),
    Setting("HTTP_POOL_SIZE", "OASIS_HTTP_POOL_SIZE", 100, int, "kept-alive connections per peer"),
    # Seconds: no wait before the first retry, backoff * 2**(n-1) before retry n >= 2.
    Setting("HTTP_RETRY_BACKOFF", "OASIS_HTTP_RETRY_BACKOFF", 0.2, float, "seconds, grows by doubling"),
    Setting("READY_PEERS", "OASIS_READY_PEERS", [], list, "base URLs whose /healthz /readyz also checks"),
    Setting(
        "IDEMPOTENCY_RETENTION_HOURS",
        "OASIS_IDEMPOTENCY_RETENTION_HOURS",
        48,
        int,
        "what purge_idempotency_records keeps",
    ),
    # Contract tests only: mounts oasis_common.provider_states (never in production).
    Setting(
        "PROVIDER_STATES",
        "OASIS_PROVIDER_STATES",
        False,
        bool,
        "contract tests only",
        clean=not_in_production,
    ),
    # File path rules shared by projects (which stores files, and reads them from its environment)
    # and the builder (whose models name them).
    Setting("MAX_PATH_BYTES", None, 512, int),
    Setting("MAX_PATH_DEPTH", None, 32, int),
    Setting("MAX_SEGMENT_BYTES", None, 255, int),
    # Peers whose X-Forwarded-Host and -Proto are believed: services are reachable only inside the
    # deployment, through the gateway, so loopback and private networks.
    Setting(
        "TRUSTED_PROXIES",
        "OASIS_TRUSTED_PROXIES",
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
        list,
        "addresses or networks whose X-Forwarded-Host and -Proto are believed",
        clean=networks,
    ),
)

DEFAULTS = {setting.name: setting.default for setting in PLATFORM}


class OasisSettings:
    """`settings.OASIS`, each platform key falling back to its default; the library reads only this."""

    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown OASIS setting {name!r}")
        return getattr(settings, "OASIS", {}).get(name, DEFAULTS[name])


oasis_settings = OasisSettings()
