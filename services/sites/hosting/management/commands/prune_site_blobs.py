"""`manage.py prune_site_blobs [--grace S] [--every S]`: remove store blobs no deployment holds."""

from django.core.management.base import BaseCommand, CommandError

from hosting.management.commands._every import add_every_argument, run_every
from hosting.store import store


class Command(BaseCommand):
    help = (
        "Remove blobs of the site store that no deployment links to (pruned or deleted deployments); "
        "with --every, keep doing so until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="Keep blobs changed this recently: a publish in progress may not have linked them yet.",
        )
        add_every_argument(parser)

    def handle(self, *args, grace, every=None, **options):
        if grace < 0:
            raise CommandError("--grace must not be negative")

        def prune() -> str | None:
            removed = store().blobs_prune(grace_seconds=grace)
            # On a loop, only rounds that removed something are worth a log line.
            return f"Removed {removed} unused blob(s)." if removed or every is None else None

        run_every(self, every=every, what="Pruning unused blobs", work=prune)
