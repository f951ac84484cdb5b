"""The auth service's own keys of `settings.OASIS`: one table, read by config/settings.py."""

from django.core.exceptions import ImproperlyConfigured

from oasis_common.conf import Setting

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate(raw: str) -> tuple[int, int]:
    """`30/hour` (or `/second`, `/minute`, `/day`, as DRF writes rates) as (count, seconds)."""
    count, _, period = raw.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip()[:1] not in _PERIODS:
        raise ImproperlyConfigured(f"Sign-up rates look like 30/hour, not {raw!r}")
    return int(count), _PERIODS[period.strip()[0]]


def sign_up_rate(setting: Setting, raw: str) -> tuple[int, int]:
    return rate(raw)


AUTH = (
    Setting("JWT_SIGNING_KEY", "OASIS_JWT_SIGNING_KEY", "", help="the PEM inline, instead of a file"),
    Setting(
        "JWT_SIGNING_KEY_FILE",
        "OASIS_JWT_SIGNING_KEY_FILE",
        "",
        help="the PEM private key; required in production",
        derived="var/keys/jwt-signing.pem in development",
    ),
    Setting("JWT_VERIFY_KEY_FILES", "OASIS_JWT_VERIFY_KEY_FILES", [], list, "more PEMs to publish"),
    # The `aud` of refresh tokens: auth alone accepts it, so no other verifier takes one for access.
    Setting("JWT_REFRESH_AUDIENCE", "OASIS_JWT_REFRESH_AUDIENCE", "oasis-auth-refresh"),
    Setting("API_KEY_TOKEN_LIFETIME", "OASIS_API_KEY_TOKEN_LIFETIME", 60, int, "seconds"),
    Setting("API_KEYS_PER_USER", "OASIS_API_KEYS_PER_USER", 25, int),
    Setting("SERVICE_TOKEN_LIFETIME", "OASIS_SERVICE_TOKEN_LIFETIME", 300, int, "seconds"),
    Setting(
        "SERVICE_CLIENTS",
        "OASIS_SERVICE_CLIENTS",
        {},
        dict,
        "name=secret of each service; required in production",
        derived="generated in development",
    ),
    Setting("LOGIN_MAX_FAILURES_PER_ACCOUNT", "OASIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, int),
    Setting("LOGIN_MAX_FAILURES_PER_IP", "OASIS_LOGIN_MAX_FAILURES_PER_IP", 30, int),
    Setting("LOGIN_LOCKOUT_SECONDS", "OASIS_LOGIN_LOCKOUT_SECONDS", 900, int),
    # Sign-ups: a token bucket per address and one per network, each a burst that refills at
    # a steady rate, so a classroom behind one address can sign up together.
    Setting("REGISTER_RATE", "OASIS_THROTTLE_REGISTER", "30/hour", clean=sign_up_rate),
    Setting("REGISTER_BURST", "OASIS_THROTTLE_REGISTER_BURST", 40, int),
    Setting("REGISTER_NETWORK_RATE", "OASIS_THROTTLE_REGISTER_NETWORK", "120/hour", clean=sign_up_rate),
    Setting("REGISTER_NETWORK_BURST", "OASIS_THROTTLE_REGISTER_NETWORK_BURST", 200, int),
    Setting("REGISTER_IPV4_PREFIX", "OASIS_THROTTLE_REGISTER_IPV4_PREFIX", 24, int),
    Setting("REGISTER_IPV6_PREFIX", "OASIS_THROTTLE_REGISTER_IPV6_PREFIX", 56, int),
    Setting(
        "PASSWORD_RESET_URL",
        "OASIS_PASSWORD_RESET_URL",
        "http://localhost:8080/studio/reset-password?uid={uid}&token={token}",
        help="the link mailed",
    ),
)
