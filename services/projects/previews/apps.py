"""The previews app (no models: a preview link is a signed token)."""

from django.apps import AppConfig


class PreviewsConfig(AppConfig):
    name = "previews"
    verbose_name = "Previews"
