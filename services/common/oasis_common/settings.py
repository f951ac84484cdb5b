"""The settings every service shares: `common_settings` builds them for one service, and
`oasis_common.service_settings` gives them to a service's config/settings.py as names."""

from __future__ import annotations

import copy
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common import env

# The development port table lives beside the peer URLs it defaults; scripts/ports.py reads it here.
from oasis_common.conf import DEFAULT_PORTS as DEFAULT_PORTS
from oasis_common.conf import PLATFORM, peer, read

SERVICE_NAMES = ("auth", "projects", "payments", "builder", "sites")


def peer_url(service: str) -> str:
    """The base URL of a peer service, e.g. `OASIS_PROJECTS_URL`."""
    setting = peer(service)
    return read((setting,))[setting.name]


# The platform's Django apps, before each service's own (its config.APPS).
PLATFORM_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_prometheus",
    "oasis_common",
    "oasis_common.idempotency",
]

# The settings no service or environment changes.
FIXED = {
    "MIDDLEWARE": [
        "oasis_common.middleware.ProbeMiddleware",
        "django_prometheus.middleware.PrometheusBeforeMiddleware",
        "oasis_common.middleware.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ],
    "ROOT_URLCONF": "config.urls",
    "WSGI_APPLICATION": "config.wsgi.application",
    "ASGI_APPLICATION": "config.asgi.application",
    "TEMPLATES": [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                    "django.contrib.messages.context_processors.messages",
                ]
            },
        }
    ],
    "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    "LANGUAGE_CODE": "en-us",
    "TIME_ZONE": "UTC",
    "USE_I18N": True,
    "USE_TZ": True,
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "USE_X_FORWARDED_HOST": False,
    "SESSION_COOKIE_PATH": "/admin/",
    "CSRF_COOKIE_PATH": "/admin/",
    "X_FRAME_OPTIONS": "DENY",
}

# DRF as every service uses it; the number of proxies in front comes from the environment.
REST_FRAMEWORK_BASE = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["oasis_common.authentication.UserJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["oasis_common.permissions.IsUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["oasis_common.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "oasis_common.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["oasis_common.ordering.OrderingFilter"],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "oasis_common.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "oasis_common.schema.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {},
}


def common_settings(*, service: str, base_dir: Path, apps: list[str]) -> dict:
    """Return the shared settings for `service`, with `apps` as its own Django apps."""
    if service not in SERVICE_NAMES:
        raise ImproperlyConfigured(f"Unknown service {service!r}")
    repo_root = base_dir.parent.parent
    var = env.var_dir(repo_root)
    secrets_dir = var / "secrets"
    production = env.is_production()
    debug = env.get_bool("DJANGO_DEBUG", False)
    if production and debug:
        raise ImproperlyConfigured("DJANGO_DEBUG must not be on in production")
    return {
        **copy.deepcopy(FIXED),
        "OASIS_SERVICE_NAME": service,
        "OASIS_ENVIRONMENT": env.environment(),
        "OASIS_VAR_DIR": var,
        "BASE_DIR": base_dir,
        "DEBUG": debug,
        "SECRET_KEY": env.get_secret(
            "DJANGO_SECRET_KEY", dev_file=secrets_dir / f"{service}-django-secret-key"
        ),
        "ALLOWED_HOSTS": env.get_list(
            "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", service, f"{service}-service"]
        ),
        "INSTALLED_APPS": [*PLATFORM_APPS, *apps],
        "DATABASES": {
            "default": env.database_config("DATABASE_URL", sqlite_path=var / service / "db.sqlite3")
        },
        "CACHES": {"default": env.cache_config(service=service)},
        "STATIC_URL": f"/static/{service}/",
        # Images collect static files into OASIS_STATIC_ROOT; elsewhere WhiteNoise finds them in place.
        "STATIC_ROOT": env.get_str("OASIS_STATIC_ROOT") or None,
        "WHITENOISE_USE_FINDERS": not env.get_str("OASIS_STATIC_ROOT"),
        # Requests bigger than this are refused with 413 before any view runs.
        "DATA_UPLOAD_MAX_MEMORY_SIZE": env.get_int("OASIS_MAX_REQUEST_BYTES", 1024 * 1024),
        "SESSION_COOKIE_SECURE": production,
        "CSRF_COOKIE_SECURE": production,
        "REST_FRAMEWORK": {
            **copy.deepcopy(REST_FRAMEWORK_BASE),
            # The gateway overwrites X-Forwarded-For with the client's address.
            "NUM_PROXIES": env.get_int("OASIS_NUM_PROXIES", 1),
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"Imagi Oasis {service} API",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "COMPONENT_SPLIT_REQUEST": True,
            "SCHEMA_PATH_PREFIX": r"/api/v1/",
            "PREPROCESSING_HOOKS": ["oasis_common.schema.public_endpoints_only"],
        },
        "LOGGING": logging_config(service),
        # The client secret last: production missing several secrets names DJANGO_SECRET_KEY first.
        "OASIS": {**_oasis(service), "SERVICE_CLIENT_SECRET": _service_client_secret(service, secrets_dir)},
    }


def _oasis(service: str) -> dict:
    """The platform's keys of `settings.OASIS`, from its table."""
    auth_url = peer_url("auth")
    return {
        "SERVICE_NAME": service,
        **read(
            PLATFORM,
            defaults={
                "JWKS_URL": f"{auth_url}/api/v1/auth/.well-known/jwks.json",
                "SERVICE_CLIENT_ID": service,
            },
        ),
    }


def _service_client_secret(service: str, secrets_dir: Path) -> str:
    """This service's secret for obtaining service tokens from auth (generated in development)."""
    if service == "auth":
        return ""
    return env.get_secret("OASIS_SERVICE_CLIENT_SECRET", dev_file=secrets_dir / f"service-client-{service}")


def logging_config(service: str) -> dict:
    level = env.get_str("OASIS_LOG_LEVEL", "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "oasis_common.logs.RequestIdFilter", "service": service},
        },
        "formatters": {
            "json": {
                "()": "oasis_common.logs.JsonFormatter",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Requests are logged once, by oasis.requests; Django's own lines would repeat them.
            "django.request": {"level": "ERROR", "propagate": True},
            "django.server": {"level": "WARNING", "propagate": True},
            "django.db.backends": {"level": "WARNING", "propagate": True},
        },
    }
