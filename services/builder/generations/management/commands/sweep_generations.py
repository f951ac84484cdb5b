"""Queue again or end generations whose worker died, and retry settlements payments could not take."""

import signal
import threading

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from generations.sweeper import sweep


class Command(BaseCommand):
    help = "Fail stale runs (releasing their holds) and settle unsettled ones; --every N repeats."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="Repeat every N seconds until stopped.")

    def handle(self, *args, every: float, **options):
        stop = threading.Event()
        if every:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        while True:
            counts = sweep()
            if any(counts.values()) or not every:
                self.stdout.write(
                    f"runs queued again: {counts['requeued']}, stale runs failed: {counts['stale']}, "
                    f"queue rows renewed: {counts['renewed']}, "
                    f"unstarted runs failed: {counts['unstarted']}, "
                    f"settlements retried: {counts['settled']}"
                )
            if not every or stop.wait(every):
                return
            # Like the end of a request: do not hold a connection the database may have dropped.
            close_old_connections()
