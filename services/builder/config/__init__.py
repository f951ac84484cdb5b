"""The Django project of the builder service: settings, routes and entry points."""

SERVICE = "builder"
# The service's own Django apps, after the platform's (oasis_common.settings).
APPS = ["django_tasks", "django_tasks_db", "catalog", "generations"]
