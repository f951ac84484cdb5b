"""The Django project of the payments service: settings, routes and entry points."""

SERVICE = "payments"
# The service's own Django apps, after the platform's (oasis_common.settings).
APPS = ["credits", "purchases"]
