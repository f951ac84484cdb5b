"""The hosting app: sites, their immutable deployments, and the store the gateway serves them from."""

from django.apps import AppConfig

from hosting.store import store
from oasis_common.health import ready_check_add


class HostingConfig(AppConfig):
    name = "hosting"
    verbose_name = "Hosting"

    def ready(self) -> None:
        # A pod whose store is read-only or full would fail every publish: it is not ready.
        ready_check_add("site_store", lambda: store().writable_check())
