"""The auth worker's health check: the email queue's database answers, and how long its emails wait."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.tasks import EMAIL_QUEUE


class Command(BaseCommand):
    help = "Exit 0 when the email queue's database answers (saying how many emails wait), 1 when not."
    # Compose's health check and the liveness probe run this every minute: no system checks.
    requires_system_checks = []

    def handle(self, *args, **options):
        try:
            queued = (
                DBTaskResult.objects.ready()
                .filter(queue_name=EMAIL_QUEUE)
                .aggregate(waiting=Count("id"), oldest=Min("enqueued_at"))
            )
        except DatabaseError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"The email queue's database does not answer: {reason}") from exc
        if not queued["waiting"]:
            self.stdout.write("The email queue's database answers; no email is waiting.")
            return
        waited = (timezone.now() - queued["oldest"]).total_seconds()
        emails = "1 email waits" if queued["waiting"] == 1 else f"{queued['waiting']} emails wait"
        self.stdout.write(f"The email queue's database answers; {emails}, the oldest for {waited:.0f} s.")
