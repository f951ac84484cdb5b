"""`manage.py release_expired_holds [--every SECONDS]`: release holds whose time is up, once or on a loop."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from credits.holds import holds_release_expired

logger = logging.getLogger("oasis.payments.sweeper")


class Command(BaseCommand):
    help = "Release every open hold past its expiry; with --every, keep doing so until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Run again every SECONDS until stopped, instead of once.",
        )

    def handle(self, *args, every=None, **options):
        if every is None:
            self.stdout.write(f"Released {holds_release_expired()} expired hold(s).")
            return
        if every <= 0:
            raise CommandError("--every must be a positive number of seconds")
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"Releasing expired holds every {every:g}s; SIGTERM or SIGINT stops.")
        while not stop.is_set():
            self.sweep()
            stop.wait(every)
        self.stdout.write("Stopped.")

    def sweep(self) -> None:
        # A database that is briefly away must not end the loop: the next round tries again.
        close_old_connections()
        try:
            released = holds_release_expired()
        except Exception:
            logger.exception("Releasing expired holds failed; trying again next round")
            return
        if released:
            logger.info("Released expired holds", extra={"released": released})
