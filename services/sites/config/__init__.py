"""The Django project of the sites service: settings, routes and entry points."""

SERVICE = "sites"
# The service's own Django apps, after the platform's (oasis_common.settings).
APPS = ["hosting"]
