"""The idempotency app: the stored first answers that repeated requests are given again."""

from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "oasis_common.idempotency"
    label = "oasis_idempotency"
    verbose_name = "Idempotency records"
    default_auto_field = "django.db.models.BigAutoField"
