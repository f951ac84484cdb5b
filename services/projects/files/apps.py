"""The files app."""

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files and revisions"
    default_auto_field = "django.db.models.BigAutoField"
