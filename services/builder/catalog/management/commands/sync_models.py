"""Bring the model catalog in line with the configuration (OASIS_MODELS, or the defaults)."""

from django.core.management.base import BaseCommand

from catalog.registry import catalog_sync


class Command(BaseCommand):
    help = "Create or update the configured models in the catalog."

    def handle(self, *args, **options):
        for model in catalog_sync():
            self.stdout.write(f"{model.slug}: {model.display_name}{' (default)' if model.is_default else ''}")
