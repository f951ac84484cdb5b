"""Settings of the auth service: users, passwords, JWTs, API keys, JWKS and service tokens."""

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common import env
from oasis_common.settings import SERVICE_NAMES, common_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="auth", base_dir=BASE_DIR, apps=["accounts", "tokens", "apikeys"]))
INSTALLED_APPS.insert(INSTALLED_APPS.index("accounts"), "rest_framework_simplejwt.token_blacklist")  # noqa: F821

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.get_int("OASIS_PASSWORD_MIN_LENGTH", 10)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = env.get_int("OASIS_PASSWORD_RESET_TIMEOUT", 3600)

_var = OASIS_VAR_DIR  # noqa: F821
_secrets = _var / "secrets"
_production = env.is_production()

EMAIL_BACKEND = env.get_str(
    "OASIS_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if _production
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = env.get_str("OASIS_EMAIL_FILE_PATH") or None  # for the file-based backend
EMAIL_HOST = env.get_str("OASIS_SMTP_HOST", "localhost")
EMAIL_PORT = env.get_int("OASIS_SMTP_PORT", 587)
EMAIL_HOST_USER = env.get_str("OASIS_SMTP_USER")
EMAIL_HOST_PASSWORD = env.get_str("OASIS_SMTP_PASSWORD")
EMAIL_USE_TLS = env.get_bool("OASIS_SMTP_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.get_str("OASIS_EMAIL_FROM", "Imagi Oasis <no-reply@localhost>")

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _rate(raw: str) -> tuple[int, int]:
    """`30/hour` (or `/second`, `/minute`, `/day`, as DRF writes rates) as (count, seconds)."""
    count, _, period = raw.partition("/")
    if not count.strip().isdigit() or int(count) < 1 or period.strip()[:1] not in _PERIODS:
        raise ImproperlyConfigured(f"Sign-up rates look like 30/hour, not {raw!r}")
    return int(count), _PERIODS[period.strip()[0]]


_access_lifetime = timedelta(seconds=env.get_int("OASIS_ACCESS_TOKEN_LIFETIME", 300))
SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "ACCESS_TOKEN_LIFETIME": _access_lifetime,
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.get_int("OASIS_REFRESH_TOKEN_LIFETIME", 14 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUDIENCE": OASIS["JWT_AUDIENCE"],  # noqa: F821
    "ISSUER": OASIS["JWT_ISSUER"],  # noqa: F821
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

OASIS.update(  # noqa: F821
    {
        # Auth verifies its own tokens from its keyring; it never fetches its own JWKS.
        "JWKS_LOADER": "tokens.keys.public_jwks",
        "JWT_SIGNING_KEY": env.get_str("OASIS_JWT_SIGNING_KEY"),
        "JWT_SIGNING_KEY_FILE": env.get_str("OASIS_JWT_SIGNING_KEY_FILE")
        or ("" if _production else str(_var / "keys" / "jwt-signing.pem")),
        "JWT_VERIFY_KEY_FILES": env.get_list("OASIS_JWT_VERIFY_KEY_FILES"),
        # The `aud` of refresh tokens: auth alone accepts it, so no other verifier takes one for access.
        "JWT_REFRESH_AUDIENCE": env.get_str("OASIS_JWT_REFRESH_AUDIENCE", "oasis-auth-refresh"),
        "API_KEY_TOKEN_LIFETIME": env.get_int("OASIS_API_KEY_TOKEN_LIFETIME", 60),
        "API_KEYS_PER_USER": env.get_int("OASIS_API_KEYS_PER_USER", 25),
        "SERVICE_TOKEN_LIFETIME": env.get_int("OASIS_SERVICE_TOKEN_LIFETIME", 300),
        "SERVICE_AUDIENCES": list(SERVICE_NAMES),
        "SERVICE_CLIENTS": env.get_mapping("OASIS_SERVICE_CLIENTS")
        or (
            {}
            if _production
            else {
                name: env.dev_secret_file(_secrets / f"service-client-{name}")
                for name in SERVICE_NAMES
                if name != "auth"
            }
        ),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": env.get_int("OASIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5),
        "LOGIN_MAX_FAILURES_PER_IP": env.get_int("OASIS_LOGIN_MAX_FAILURES_PER_IP", 30),
        "LOGIN_LOCKOUT_SECONDS": env.get_int("OASIS_LOGIN_LOCKOUT_SECONDS", 900),
        # Sign-ups: a token bucket per address and one per network, each a burst that refills at
        # a steady rate, so a classroom behind one address can sign up together.
        "REGISTER_RATE": _rate(env.get_str("OASIS_THROTTLE_REGISTER", "30/hour")),
        "REGISTER_BURST": env.get_int("OASIS_THROTTLE_REGISTER_BURST", 40),
        "REGISTER_NETWORK_RATE": _rate(env.get_str("OASIS_THROTTLE_REGISTER_NETWORK", "120/hour")),
        "REGISTER_NETWORK_BURST": env.get_int("OASIS_THROTTLE_REGISTER_NETWORK_BURST", 200),
        "REGISTER_IPV4_PREFIX": env.get_int("OASIS_THROTTLE_REGISTER_IPV4_PREFIX", 24),
        "REGISTER_IPV6_PREFIX": env.get_int("OASIS_THROTTLE_REGISTER_IPV6_PREFIX", 56),
        "PASSWORD_RESET_URL": env.get_str(
            "OASIS_PASSWORD_RESET_URL",
            "http://localhost:8080/reset-password?uid={uid}&token={token}",
        ),
    }
)

REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [  # noqa: F821
    "accounts.authentication.RevocationAwareJWTAuthentication"
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {  # noqa: F821
    "password_reset": env.get_str("OASIS_THROTTLE_PASSWORD_RESET", "10/hour"),
    "password_reset_confirm": env.get_str("OASIS_THROTTLE_PASSWORD_RESET_CONFIRM", "20/hour"),
    "token_refresh": env.get_str("OASIS_THROTTLE_TOKEN_REFRESH", "120/minute"),
}

if OASIS["JWT_REFRESH_AUDIENCE"] in {OASIS["JWT_AUDIENCE"], *OASIS["SERVICE_AUDIENCES"], ""}:  # noqa: F821
    raise ImproperlyConfigured("OASIS_JWT_REFRESH_AUDIENCE must differ from every other token audience")
if not (0 <= OASIS["REGISTER_IPV4_PREFIX"] <= 32 and 0 <= OASIS["REGISTER_IPV6_PREFIX"] <= 64):  # noqa: F821
    raise ImproperlyConfigured("Sign-up network prefixes are at most /32 (IPv4) and /64 (IPv6)")
if min(OASIS["REGISTER_BURST"], OASIS["REGISTER_NETWORK_BURST"]) < 1:  # noqa: F821
    raise ImproperlyConfigured("OASIS_THROTTLE_REGISTER_BURST and _NETWORK_BURST must be at least 1")

if _production:
    if not (OASIS["JWT_SIGNING_KEY"] or OASIS["JWT_SIGNING_KEY_FILE"]):  # noqa: F821
        raise ImproperlyConfigured("Set OASIS_JWT_SIGNING_KEY_FILE (or OASIS_JWT_SIGNING_KEY) in production")
    if not OASIS["SERVICE_CLIENTS"]:  # noqa: F821
        raise ImproperlyConfigured("Set OASIS_SERVICE_CLIENTS (name=secret,...) in production")
