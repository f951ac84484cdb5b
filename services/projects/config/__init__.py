"""The Django project of the projects service: settings, routes and entry points."""
