"""The shared settings of the service being started, as names: its config/settings.py begins with
`from oasis_common.service_settings import *`.

Every service's Django project is the package `config` (the URLconf, WSGI and ASGI entry points
are named after it); its `__init__` names the service (`SERVICE`) and the service's own Django
apps (`APPS`). A service's settings extend a shared one by importing it by name and binding a new
value (`OASIS = {**OASIS, **read(TABLE)}`), never by changing it in place.
"""

from __future__ import annotations

from pathlib import Path

import config
from oasis_common.settings import common_settings

_shared = common_settings(
    service=config.SERVICE,
    base_dir=Path(config.__file__).resolve().parent.parent,
    apps=list(config.APPS),
)

OASIS_SERVICE_NAME = _shared["OASIS_SERVICE_NAME"]
OASIS_ENVIRONMENT = _shared["OASIS_ENVIRONMENT"]
OASIS_VAR_DIR = _shared["OASIS_VAR_DIR"]
BASE_DIR = _shared["BASE_DIR"]
DEBUG = _shared["DEBUG"]
SECRET_KEY = _shared["SECRET_KEY"]
ALLOWED_HOSTS = _shared["ALLOWED_HOSTS"]
INSTALLED_APPS = _shared["INSTALLED_APPS"]
MIDDLEWARE = _shared["MIDDLEWARE"]
ROOT_URLCONF = _shared["ROOT_URLCONF"]
WSGI_APPLICATION = _shared["WSGI_APPLICATION"]
ASGI_APPLICATION = _shared["ASGI_APPLICATION"]
TEMPLATES = _shared["TEMPLATES"]
DATABASES = _shared["DATABASES"]
CACHES = _shared["CACHES"]
DEFAULT_AUTO_FIELD = _shared["DEFAULT_AUTO_FIELD"]
LANGUAGE_CODE = _shared["LANGUAGE_CODE"]
TIME_ZONE = _shared["TIME_ZONE"]
USE_I18N = _shared["USE_I18N"]
USE_TZ = _shared["USE_TZ"]
STATIC_URL = _shared["STATIC_URL"]
STATIC_ROOT = _shared["STATIC_ROOT"]
WHITENOISE_USE_FINDERS = _shared["WHITENOISE_USE_FINDERS"]
DATA_UPLOAD_MAX_MEMORY_SIZE = _shared["DATA_UPLOAD_MAX_MEMORY_SIZE"]
SECURE_CONTENT_TYPE_NOSNIFF = _shared["SECURE_CONTENT_TYPE_NOSNIFF"]
SECURE_PROXY_SSL_HEADER = _shared["SECURE_PROXY_SSL_HEADER"]
USE_X_FORWARDED_HOST = _shared["USE_X_FORWARDED_HOST"]
SESSION_COOKIE_SECURE = _shared["SESSION_COOKIE_SECURE"]
CSRF_COOKIE_SECURE = _shared["CSRF_COOKIE_SECURE"]
SESSION_COOKIE_PATH = _shared["SESSION_COOKIE_PATH"]
CSRF_COOKIE_PATH = _shared["CSRF_COOKIE_PATH"]
X_FRAME_OPTIONS = _shared["X_FRAME_OPTIONS"]
REST_FRAMEWORK = _shared["REST_FRAMEWORK"]
SPECTACULAR_SETTINGS = _shared["SPECTACULAR_SETTINGS"]
LOGGING = _shared["LOGGING"]
OASIS = _shared["OASIS"]

__all__ = [
    "ALLOWED_HOSTS",
    "ASGI_APPLICATION",
    "BASE_DIR",
    "CACHES",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_SECURE",
    "DATABASES",
    "DATA_UPLOAD_MAX_MEMORY_SIZE",
    "DEBUG",
    "DEFAULT_AUTO_FIELD",
    "INSTALLED_APPS",
    "LANGUAGE_CODE",
    "LOGGING",
    "MIDDLEWARE",
    "OASIS",
    "OASIS_ENVIRONMENT",
    "OASIS_SERVICE_NAME",
    "OASIS_VAR_DIR",
    "REST_FRAMEWORK",
    "ROOT_URLCONF",
    "SECRET_KEY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_PROXY_SSL_HEADER",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_SECURE",
    "SPECTACULAR_SETTINGS",
    "STATIC_ROOT",
    "STATIC_URL",
    "TEMPLATES",
    "TIME_ZONE",
    "USE_I18N",
    "USE_TZ",
    "USE_X_FORWARDED_HOST",
    "WHITENOISE_USE_FINDERS",
    "WSGI_APPLICATION",
    "X_FRAME_OPTIONS",
]
