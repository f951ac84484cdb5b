"""`manage.py reconcile_site_store [--grace S] [--every S]`: make the store and projects agree with the DB.

Each round puts the store's links where the database says, then sends projects every site
state it has not confirmed (a notice missed while projects was down).
"""

from django.core.management.base import BaseCommand, CommandError

from hosting.management.commands._every import add_every_argument, run_every
from hosting.publication_notices import publications_resend
from hosting.reconcile import store_reconcile
from hosting.store import store


class Command(BaseCommand):
    help = (
        "Point every live, host and takedown link where the database says; remove the rest; "
        "with --every, keep doing so until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="Keep unrecorded deployment trees this recent: a publish may be committing them.",
        )
        add_every_argument(parser)

    def handle(self, *args, grace, every=None, **options):
        if grace < 0:
            raise CommandError("--grace must not be negative")

        def reconcile() -> str | None:
            report = store_reconcile(files=store(), grace_seconds=grace)
            notices = publications_resend()
            summary = (
                f"Set {report.links_set} link(s), removed {report.links_removed}, "
                f"removed {report.trees_removed} unrecorded tree(s)."
            )
            if notices.sent or notices.failed:
                summary += f" Sent {notices.sent} site state(s) to projects, {notices.failed} to retry."
            if report.trees_missing:
                missing = ", ".join(report.trees_missing)
                raise CommandError(
                    f"{summary} Live deployments missing from the store "
                    f"(`manage.py rebuild_site_store` restores them): {missing}"
                )
            changed = report.links_set or report.links_removed or report.trees_removed or notices.sent
            # On a loop, only rounds that changed something are worth a log line.
            return summary if changed or every is None else None

        run_every(self, every=every, what="Reconciling the site store", work=reconcile)
