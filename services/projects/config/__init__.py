"""The Django project of the projects service: settings, routes and entry points."""

SERVICE = "projects"
# The service's own Django apps, after the platform's (oasis_common.settings).
APPS = ["projects", "files", "previews"]
