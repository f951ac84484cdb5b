"""Delete idempotency records older than the retention period."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from oasis_common.conf import oasis_settings
from oasis_common.idempotency.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete idempotency records older than OASIS_IDEMPOTENCY_RETENTION_HOURS."

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(hours=oasis_settings.IDEMPOTENCY_RETENTION_HOURS)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"Deleted {deleted} idempotency records older than {cutoff:%Y-%m-%d %H:%M}.")
