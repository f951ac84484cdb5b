"""The hosting app: sites, their immutable deployments, and the store the gateway serves them from."""

from django.apps import AppConfig


class HostingConfig(AppConfig):
    name = "hosting"
    verbose_name = "Hosting"
