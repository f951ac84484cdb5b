"""The Django project of the auth service: settings, routes and entry points."""

SERVICE = "auth"
# The service's own Django apps, after the platform's (oasis_common.settings).
APPS = [
    "django_tasks",
    "django_tasks_db",
    "rest_framework_simplejwt.token_blacklist",
    "accounts",
    "tokens",
    "apikeys",
]
