"""`manage.py rebuild_site_store [--grace S]`: make the site store again from the database after a loss.

Every recorded deployment gets back the blobs it lacks (fetched from projects) and the files
its tree lacks; then every link is put where the database says, as `reconcile_site_store`
does. What is in place is left alone, so it may be run on a serving store, and again.
"""

from django.core.management.base import BaseCommand, CommandError

from hosting.rebuild import store_rebuild
from hosting.reconcile import store_reconcile
from hosting.store import store


class Command(BaseCommand):
    help = (
        "Restore the blobs, deployment trees and links of the site store that the database records "
        "and the store lost, fetching lost blobs from projects."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--grace",
            type=float,
            default=3600,
            metavar="SECONDS",
            help="Keep unrecorded deployment trees this recent: a publish may be committing them.",
        )

    def handle(self, *args, grace, **options):
        if grace < 0:
            raise CommandError("--grace must not be negative")
        files = store()
        rebuilt = store_rebuild(files=files)
        linked = store_reconcile(files=files, grace_seconds=grace)
        summary = (
            f"Checked {rebuilt.deployments_checked} deployment(s): fetched {rebuilt.blobs_fetched} blob(s), "
            f"built {rebuilt.trees_built} tree(s), restored {rebuilt.files_restored} file(s). "
            f"Set {linked.links_set} link(s), removed {linked.links_removed}, "
            f"removed {linked.trees_removed} unrecorded tree(s)."
        )
        if rebuilt.failed:
            failed = "; ".join(f"{deployment}: {why}" for deployment, why in sorted(rebuilt.failed.items()))
            raise CommandError(f"{summary} Could not rebuild {len(rebuilt.failed)} deployment(s): {failed}")
        self.stdout.write(summary)
