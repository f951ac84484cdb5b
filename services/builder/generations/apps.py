"""The generations app: runs of the builder, their conversation and their live events."""

from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    verbose_name = "Generations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Queuing a run wakes the workers (its receiver connects on import).
        from generations import wakeup  # noqa: F401
