"""`manage.py send_site_publications [--all] [--every S]`: repair projects' copy of what each site serves."""

from django.core.management.base import BaseCommand, CommandError

from hosting.management.commands._every import add_every_argument, run_every
from hosting.publication_notices import publications_resend


class Command(BaseCommand):
    help = (
        "Send projects the state of every site it has not confirmed (with --all, of every site); "
        "with --every, keep doing so until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help="Send every site's state again, as after restoring projects' database from a backup.",
        )
        add_every_argument(parser)

    def handle(self, *args, everything, every=None, **options):
        def send() -> str | None:
            report = publications_resend(everything=everything)
            summary = f"Sent {report.sent} site state(s) to projects."
            if report.failed:
                raise CommandError(f"{summary} {report.failed} could not be sent; they are sent again later.")
            # On a loop, only rounds that sent something are worth a log line.
            return summary if report.sent or every is None else None

        run_every(self, every=every, what="Sending site states to projects", work=send)
