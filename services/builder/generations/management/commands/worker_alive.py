"""Whether the generation worker's main loop still goes round: its heartbeat, and the check of it.

The loop itself touches a file every few seconds (never a side thread, which would keep
beating while the loop is stuck), so a file older than the allowed silence means a wedged
worker. `manage.py worker_alive` exits 1 then: Kubernetes' liveness probe, compose's health
check and `make dev` ask it; the worker asks the same question of itself (generation_worker).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from oasis_common import env

# The loop touches the file at most this often: a write every few seconds, not every poll.
BEAT_EVERY_SECONDS = 5.0


def max_silence_seconds() -> float:
    """How long the loop may go without a beat before the worker counts as wedged."""
    seconds = env.get_float("OASIS_WORKER_HEARTBEAT_MAX_AGE", 60.0)
    if seconds <= 0:
        raise ImproperlyConfigured(f"OASIS_WORKER_HEARTBEAT_MAX_AGE must be above 0, not {seconds}")
    return seconds


def beat_every_seconds() -> float:
    """Often enough that a healthy loop is never older than a quarter of the allowed silence."""
    return min(BEAT_EVERY_SECONDS, max_silence_seconds() / 4)


def heartbeat_file() -> Path:
    """Under the var directory, which every process of a container (and its probes) shares: /tmp/oasis."""
    return Path(settings.OASIS_VAR_DIR) / "builder" / "worker-heartbeat"


class Heartbeat:
    """A file whose modification time is the loop's last beat."""

    def __init__(
        self, path: Path, *, every: float = BEAT_EVERY_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.path = path
        self.every = every
        self.clock = clock
        self._last: float | None = None

    def beat(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.every:
            return
        try:
            os.utime(self.path, (now, now))
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            os.utime(self.path, (now, now))
        self._last = now

    def age(self) -> float | None:
        """Seconds since the last beat; None before the first."""
        try:
            beaten = self.path.stat().st_mtime
        except FileNotFoundError:
            return None
        # After the clock is set back the last beat lies in the future: count it as just now.
        return max(0.0, self.clock() - beaten)

    def is_fresh(self, max_age: float) -> bool:
        age = self.age()
        return age is not None and age <= max_age


class Command(BaseCommand):
    help = "Exit 0 when the generation worker's loop beat within --max-age seconds, 1 when not."
    # A probe runs this every few seconds: no system checks, no database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--max-age",
            type=float,
            default=max_silence_seconds(),
            help="Seconds of silence allowed (OASIS_WORKER_HEARTBEAT_MAX_AGE, 60).",
        )

    def handle(self, *args, max_age: float, **options):
        heartbeat = Heartbeat(heartbeat_file())
        age = heartbeat.age()
        if age is None:
            raise CommandError(f"The generation worker has not beaten yet (no {heartbeat.path}).")
        if not heartbeat.is_fresh(max_age):
            raise CommandError(
                f"The generation worker's loop last beat {age:.0f} s ago "
                f"(allowed: {max_age:.0f} s): it is stuck."
            )
        self.stdout.write(f"The generation worker's loop last beat {age:.1f} s ago.")
