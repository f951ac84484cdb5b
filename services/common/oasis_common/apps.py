"""The platform library as a Django app: registers its OpenAPI extensions when Django starts."""

from django.apps import AppConfig


class OasisCommonConfig(AppConfig):
    name = "oasis_common"
    verbose_name = "Imagi Oasis platform"

    def ready(self) -> None:
        from oasis_common import schema  # noqa: F401  (registers the OpenAPI auth extensions)
