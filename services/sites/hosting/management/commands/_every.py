"""The `--every SECONDS` loop of the store upkeep commands: once without it, until a signal with it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

logger = logging.getLogger("oasis.sites.upkeep")


def add_every_argument(parser) -> None:
    parser.add_argument(
        "--every",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Run again every SECONDS until SIGTERM or SIGINT, instead of once.",
    )


def run_every(
    command: BaseCommand, *, every: float | None, what: str, work: Callable[[], str | None]
) -> None:
    """Run `work` once, or every `every` seconds until stopped; `work` returns what to report, if anything."""
    if every is None:
        report = work()
        if report:
            command.stdout.write(report)
        return
    if every <= 0:
        raise CommandError("--every must be a positive number of seconds")
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    command.stdout.write(f"{what} every {every:g}s; SIGTERM or SIGINT stops.")
    try:
        while not stop.is_set():
            # A database or store that is briefly away must not end the loop: the next round tries again.
            close_old_connections()
            try:
                report = work()
            except Exception:
                logger.exception("%s failed; trying again next round", what)
            else:
                if report:
                    logger.info(report)
            stop.wait(every)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    command.stdout.write("Stopped.")
