"""The purchases app: credit packs, Stripe Checkout and Stripe's webhook."""

from django.apps import AppConfig


class PurchasesConfig(AppConfig):
    name = "purchases"
    verbose_name = "Purchases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from purchases.packs import pack_list
        from purchases.return_urls import allowed_origins

        # A malformed OASIS_CREDIT_PACKS or OASIS_CHECKOUT_REDIRECT_ORIGINS stops the service at
        # start, not at the first checkout.
        pack_list()
        allowed_origins()
