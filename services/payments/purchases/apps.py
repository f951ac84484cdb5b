"""The purchases app: credit packs, Stripe Checkout and Stripe's webhook."""

from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = "Purchases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from purchases.packs import pack_list

        # A malformed OASIS_CREDIT_PACKS stops the service at start, not at the first checkout.
        pack_list()
