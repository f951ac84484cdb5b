"""Settings of the auth service: users, passwords, JWTs, API keys, JWKS and service tokens."""

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from config import variables
from oasis_common import env
from oasis_common.conf import read
from oasis_common.service_settings import *  # noqa: F403
from oasis_common.service_settings import OASIS, OASIS_VAR_DIR, REST_FRAMEWORK
from oasis_common.settings import SERVICE_NAMES

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

_secrets = OASIS_VAR_DIR / "secrets"
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

# The password reset email is a task (accounts.tasks), queued in the database and sent by
# `manage.py db_worker --queue-name emails` (the auth-worker process): the request that asks
# for it only inserts a row, so it answers as fast for a known address as for an unknown one.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["emails"],
    }
}

OASIS = {
    **OASIS,
    **read(
        variables.AUTH,
        defaults={
            "JWT_SIGNING_KEY_FILE": "" if _production else str(OASIS_VAR_DIR / "keys" / "jwt-signing.pem"),
            "SERVICE_CLIENTS": {}
            if _production
            else {
                name: env.dev_secret_file(_secrets / f"service-client-{name}")
                for name in SERVICE_NAMES
                if name != "auth"
            },
        },
    ),
    # Auth verifies its own tokens from its keyring; it never fetches its own JWKS.
    "JWKS_LOADER": "tokens.keys.public_jwks",
    "SERVICE_AUDIENCES": list(SERVICE_NAMES),
}

SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.get_int("OASIS_ACCESS_TOKEN_LIFETIME", 300)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.get_int("OASIS_REFRESH_TOKEN_LIFETIME", 14 * 24 * 3600)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "sub",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUDIENCE": OASIS["JWT_AUDIENCE"],
    "ISSUER": OASIS["JWT_ISSUER"],
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
}

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.RevocationAwareJWTAuthentication"],
    "DEFAULT_THROTTLE_RATES": {
        "password_reset": env.get_str("OASIS_THROTTLE_PASSWORD_RESET", "10/hour"),
        "password_reset_confirm": env.get_str("OASIS_THROTTLE_PASSWORD_RESET_CONFIRM", "20/hour"),
        "token_refresh": env.get_str("OASIS_THROTTLE_TOKEN_REFRESH", "120/minute"),
    },
}

if OASIS["JWT_REFRESH_AUDIENCE"] in {OASIS["JWT_AUDIENCE"], *OASIS["SERVICE_AUDIENCES"], ""}:
    raise ImproperlyConfigured("OASIS_JWT_REFRESH_AUDIENCE must differ from every other token audience")
if not (0 <= OASIS["REGISTER_IPV4_PREFIX"] <= 32 and 0 <= OASIS["REGISTER_IPV6_PREFIX"] <= 64):
    raise ImproperlyConfigured("Sign-up network prefixes are at most /32 (IPv4) and /64 (IPv6)")
if min(OASIS["REGISTER_BURST"], OASIS["REGISTER_NETWORK_BURST"]) < 1:
    raise ImproperlyConfigured("OASIS_THROTTLE_REGISTER_BURST and _NETWORK_BURST must be at least 1")

if _production:
    if not (OASIS["JWT_SIGNING_KEY"] or OASIS["JWT_SIGNING_KEY_FILE"]):
        raise ImproperlyConfigured("Set OASIS_JWT_SIGNING_KEY_FILE (or OASIS_JWT_SIGNING_KEY) in production")
    if not OASIS["SERVICE_CLIENTS"]:
        raise ImproperlyConfigured("Set OASIS_SERVICE_CLIENTS (name=secret,...) in production")
